import type { GenericSchema } from 'valibot';
import type { ErrorCode } from '../functions/domain/errors';
import { eventView, reservationView } from '../functions/http/response-schemas';
import { idempotencyKeyHeader, newEventBody, reserveBody } from '../functions/http/schemas';

/**
 * The one route table. The CDK stack turns each entry into an HTTP API route backed by its
 * own Lambda function; the local server (bin/local.ts) serves the same entries by calling
 * the same handler modules; the OpenAPI document (lib/openapi.ts) describes the same entries.
 * Add a route here and it exists in all three.
 */
type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** Whether a route's function changes the table at all (readers are granted read actions only). */
type TableAccess = 'read' | 'readWrite';

type RouteAccess = 'public' | 'buyer' | 'organizer';

/**
 * IAM actions on the table. Transactions have no IAM action of their own: each item in a
 * TransactWriteItems needs the action of its kind (PutItem, UpdateItem, DeleteItem,
 * ConditionCheckItem) and each item in a TransactGetItems needs GetItem.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
 */
export type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:BatchWriteItem'
  | 'dynamodb:ConditionCheckItem'
  /** On an index of the table (the sweeper's): see lib/jobs.ts. */
  | 'dynamodb:Query';

/** The actions that only read. */
export const readActions: readonly TableAction[] = ['dynamodb:GetItem', 'dynamodb:BatchGetItem'];

export interface RouteDefinition {
  /** Stable id: used for the Lambda function's construct id. Renaming it replaces the function. */
  readonly id: string;
  readonly method: HttpMethod;
  /** API Gateway path template, e.g. `/events/{eventId}`. */
  readonly path: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly tableAccess: TableAccess;
  /**
   * Who may call it. `public`: anyone (no token). `buyer`: any valid token; the buyer is its
   * `sub`. `organizer`: a valid token in the organizers group. API Gateway's JWT authorizer
   * checks the token on every route but the public ones; the function reads the claims.
   */
  readonly access: RouteAccess;
  /**
   * Exactly the table actions the handler's code paths send, and all the CDK stack grants.
   * test/infra/table-permissions.test.ts drives every path against DynamoDB Local and checks
   * that the calls made are this list, no more and no less.
   */
  readonly tableActions: readonly TableAction[];
  readonly description: string;
  /** What the route accepts and answers, from the request and response schemas. */
  readonly contract: RouteContract;
}

interface RouteContract {
  readonly body?: GenericSchema;
  readonly headers?: readonly { readonly name: string; readonly schema: GenericSchema; readonly description: string }[];
  /** Successful answers by status. */
  readonly answers: readonly {
    readonly status: number;
    readonly schema: GenericSchema;
    readonly description: string;
    /** Response headers the answer carries: name → what it holds. */
    readonly headers?: Readonly<Record<string, string>>;
  }[];
  /** Error codes this route answers besides those every route may (see lib/openapi.ts). */
  readonly errors: readonly ErrorCode[];
}

const idempotencyKey = {
  name: 'Idempotency-Key',
  schema: idempotencyKeyHeader,
  description:
    'Makes a retry safe: the reservation id is derived from the key, so a replay (even concurrent) gets the same reservation. ' +
    'The same key with another body or event is a 422. Use a UUID.',
} as const;

export const routes: readonly RouteDefinition[] = [
  {
    id: 'CreateEvent',
    method: 'POST',
    path: '/events',
    entry: 'functions/handlers/create-event.ts',
    tableAccess: 'readWrite',
    access: 'organizer',
    // BatchWriteItem for the inventory shards, a conditional PutItem for the event item, and
    // GetItem to find that item when the put's answer was lost and its retry found it there.
    tableActions: ['dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:GetItem'],
    description: 'Create an event with its capacity and reservation strategy (organizers only)',
    contract: {
      body: newEventBody,
      answers: [{ status: 201, schema: eventView, description: 'The event, with every ticket available.' }],
      errors: ['invalid_request', 'forbidden', 'unsafe_strategy_disabled'],
    },
  },
  {
    id: 'GetEvent',
    method: 'GET',
    path: '/events/{eventId}',
    entry: 'functions/handlers/get-event.ts',
    tableAccess: 'read',
    access: 'public',
    // GetItem for the event and a single inventory item; TransactGetItems (GetItem per item) for sharded inventory.
    tableActions: ['dynamodb:GetItem'],
    description: 'Read an event and its remaining tickets',
    contract: {
      answers: [{ status: 200, schema: eventView, description: 'The event and what is available now.' }],
      // On AWS the inventory read (TransactGetItems) is cancelled while holds write the same shards; retried, then 503.
      errors: ['event_not_found', 'contention'],
    },
  },
  {
    id: 'ReserveTickets',
    method: 'POST',
    path: '/events/{eventId}/reservations',
    entry: 'functions/handlers/reserve-tickets.ts',
    tableAccess: 'readWrite',
    access: 'buyer',
    // The hold transaction (Put reservation, Update shards and tally), the sold-out read
    // (GetItem or TransactGetItems), a refusal's lookup of its own hold (BatchGetItem),
    // the stepwise strategies' writes and undo (DeleteItem).
    tableActions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    description: 'Hold tickets for the calling buyer (idempotent with Idempotency-Key)',
    contract: {
      body: reserveBody,
      headers: [idempotencyKey],
      answers: [
        { status: 201, schema: reservationView, description: 'A new hold.' },
        {
          status: 202,
          schema: reservationView,
          description:
            '`queued` events: the request is in line (QUEUED), first asked or replayed; `Location` is where its decision will show (HELD or REJECTED).',
          headers: { Location: 'The reservation to read for the decision: `/reservations/{reservationId}`.' },
        },
        {
          status: 200,
          schema: reservationView,
          description:
            'A replay: the reservation an earlier request with this Idempotency-Key made, as it is now (HELD, CONFIRMED, RELEASED, EXPIRED, or REJECTED for `queued`).',
        },
      ],
      errors: ['invalid_request', 'event_not_found', 'unsafe_strategy_disabled', 'sold_out', 'buyer_limit_exceeded', 'idempotency_key_reused', 'contention'],
    },
  },
  {
    id: 'GetReservation',
    method: 'GET',
    path: '/reservations/{reservationId}',
    entry: 'functions/handlers/get-reservation.ts',
    tableAccess: 'read',
    access: 'buyer',
    // Reservation reads are batched (see ConsistentGetBatcher).
    tableActions: ['dynamodb:BatchGetItem'],
    description: 'Read a reservation and its status',
    contract: {
      answers: [{ status: 200, schema: reservationView, description: 'The reservation.' }],
      errors: ['reservation_not_found'],
    },
  },
  {
    id: 'ConfirmReservation',
    method: 'POST',
    path: '/reservations/{reservationId}/confirm',
    entry: 'functions/handlers/confirm-reservation.ts',
    tableAccess: 'readWrite',
    access: 'buyer',
    // A conditional UpdateItem; an expired hold is read (batched) and returned in a transaction of Updates.
    tableActions: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
    description: 'Turn a live hold into a purchase',
    contract: {
      answers: [{ status: 200, schema: reservationView, description: 'CONFIRMED (confirming again changes nothing).' }],
      errors: ['reservation_not_found', 'not_held', 'hold_expired', 'contention'],
    },
  },
  {
    id: 'ReleaseReservation',
    method: 'DELETE',
    path: '/reservations/{reservationId}',
    entry: 'functions/handlers/release-reservation.ts',
    tableAccess: 'readWrite',
    access: 'buyer',
    // Read the hold (batched), then one transaction of Updates (reservation, shards, tally).
    tableActions: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
    description: 'Give a hold back; its tickets return to inventory exactly once',
    contract: {
      answers: [{ status: 200, schema: reservationView, description: 'RELEASED (releasing again changes nothing; tickets return once).' }],
      errors: ['reservation_not_found', 'not_held', 'hold_expired', 'contention'],
    },
  },
];

/** `POST /events/{eventId}/reservations` style key, as API Gateway names routes. */
export function routeKey(route: Pick<RouteDefinition, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}
