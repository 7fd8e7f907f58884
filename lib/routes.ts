/**
 * The one route table. The CDK stack turns each entry into an HTTP API route backed by its
 * own Lambda function; the local server (bin/local.ts) serves the same entries by calling
 * the same handler modules. Add a route here and it exists in both places.
 */
export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** What a route's function may do to the table: the CDK stack grants exactly this. */
export type TableAccess = 'read' | 'readWrite';

export interface RouteDefinition {
  /** Stable id: used for the Lambda function's construct id. Renaming it replaces the function. */
  readonly id: string;
  readonly method: HttpMethod;
  /** API Gateway path template, e.g. `/events/{eventId}`. */
  readonly path: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly tableAccess: TableAccess;
  readonly description: string;
}

export const routes: readonly RouteDefinition[] = [
  {
    id: 'CreateEvent',
    method: 'POST',
    path: '/events',
    entry: 'functions/handlers/create-event.ts',
    tableAccess: 'readWrite',
    description: 'Create an event with its capacity and reservation strategy',
  },
  {
    id: 'GetEvent',
    method: 'GET',
    path: '/events/{eventId}',
    entry: 'functions/handlers/get-event.ts',
    tableAccess: 'read',
    description: 'Read an event and its remaining tickets',
  },
  {
    id: 'ReserveTickets',
    method: 'POST',
    path: '/events/{eventId}/reservations',
    entry: 'functions/handlers/reserve-tickets.ts',
    tableAccess: 'readWrite',
    description: 'Hold tickets for a buyer (idempotent with Idempotency-Key)',
  },
  {
    id: 'GetReservation',
    method: 'GET',
    path: '/reservations/{reservationId}',
    entry: 'functions/handlers/get-reservation.ts',
    tableAccess: 'read',
    description: 'Read a reservation and its status',
  },
  {
    id: 'ConfirmReservation',
    method: 'POST',
    path: '/reservations/{reservationId}/confirm',
    entry: 'functions/handlers/confirm-reservation.ts',
    tableAccess: 'readWrite',
    description: 'Turn a live hold into a purchase',
  },
  {
    id: 'ReleaseReservation',
    method: 'DELETE',
    path: '/reservations/{reservationId}',
    entry: 'functions/handlers/release-reservation.ts',
    tableAccess: 'readWrite',
    description: 'Give a hold back; its tickets return to inventory exactly once',
  },
];

/** `POST /events/{eventId}/reservations` style key, as API Gateway names routes. */
export function routeKey(route: Pick<RouteDefinition, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}
