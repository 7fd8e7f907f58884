/**
 * The one error hierarchy. Each error names a stable snake_case `code` that clients can
 * branch on; functions/http/responses.ts maps codes to HTTP status in one place.
 * The data layer translates SDK errors into these, so nothing above it sees the SDK.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'event_not_found'
  | 'reservation_not_found'
  | 'route_not_found'
  | 'payload_too_large'
  | 'unsafe_strategy_disabled'
  | 'sold_out'
  | 'buyer_limit_exceeded'
  | 'not_held'
  | 'hold_expired'
  | 'idempotency_key_reused'
  | 'contention'
  | 'throughput_exceeded';

export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

export abstract class StampedeError extends Error {
  abstract readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export class InvalidRequest extends StampedeError {
  readonly code = 'invalid_request';
  constructor(
    message: string,
    readonly problems: readonly FieldProblem[] = [],
  ) {
    super(message, problems.length > 0 ? { fields: problems } : undefined);
  }
}

/**
 * No caller identity reached the function. On AWS the JWT authorizer refuses a missing or bad
 * token before any function runs; this answers a route that reached a function without claims.
 */
export class Unauthorized extends StampedeError {
  readonly code = 'unauthorized';
  constructor() {
    super('This route needs a valid bearer token.');
  }
}

/** A valid caller without the right to do this (a buyer creating an event). */
export class Forbidden extends StampedeError {
  readonly code = 'forbidden';
  constructor(message: string) {
    super(message);
  }
}

export class EventNotFound extends StampedeError {
  readonly code = 'event_not_found';
  constructor(eventId: string) {
    super(`No event with id '${eventId}'.`);
  }
}

export class ReservationNotFound extends StampedeError {
  readonly code = 'reservation_not_found';
  constructor(reservationId: string) {
    super(`No reservation with id '${reservationId}'.`);
  }
}

export class RouteNotFound extends StampedeError {
  readonly code = 'route_not_found';
  constructor(method: string, path: string) {
    super(`No route for ${method} ${path}.`);
  }
}

/** Answered by the local stand-in for API Gateway (local/http-server.ts) for a body past its limit. */
export class PayloadTooLarge extends StampedeError {
  readonly code = 'payload_too_large';
  constructor(maxBytes: number) {
    super(`Request bodies are limited to ${maxBytes} bytes.`);
  }
}

export class UnsafeStrategyDisabled extends StampedeError {
  readonly code = 'unsafe_strategy_disabled';
  constructor() {
    super("The 'unsafe' strategy oversells by design and exists only as a test control; " + 'start the process with STAMPEDE_ALLOW_UNSAFE=1 to use it.');
  }
}

export class SoldOut extends StampedeError {
  readonly code = 'sold_out';
  /** `remaining` is included when a read or the failed condition told us. */
  constructor(
    readonly requested: number,
    readonly remaining?: number,
  ) {
    super(
      remaining === undefined ? `Fewer than ${requested} ticket(s) remain.` : `Only ${remaining} ticket(s) remain; ${requested} requested.`,
      remaining === undefined ? { requested } : { requested, remaining },
    );
  }
}

export class BuyerLimitExceeded extends StampedeError {
  readonly code = 'buyer_limit_exceeded';
  constructor(
    readonly maxPerBuyer: number,
    readonly alreadyHeld?: number,
  ) {
    super(
      `A buyer may hold or buy at most ${maxPerBuyer} ticket(s) for this event` +
        (alreadyHeld === undefined ? '.' : `; this buyer already has ${alreadyHeld}.`),
      alreadyHeld === undefined ? { maxPerBuyer } : { maxPerBuyer, alreadyHeld },
    );
  }
}

export class NotHeld extends StampedeError {
  readonly code = 'not_held';
  constructor(reservationId: string, status: string) {
    super(`Reservation '${reservationId}' is ${status}, not HELD.`, { status });
  }
}

export class HoldExpired extends StampedeError {
  readonly code = 'hold_expired';
  constructor(reservationId: string, expiresAt: number) {
    super(`The hold on reservation '${reservationId}' expired at ${new Date(expiresAt).toISOString()}.`, {
      expiresAt: new Date(expiresAt).toISOString(),
    });
  }
}

export class IdempotencyKeyReused extends StampedeError {
  readonly code = 'idempotency_key_reused';
  constructor() {
    super('This Idempotency-Key was already used with a different request body or event.');
  }
}

/** Retryable: too many writers raced for the same item and our bounded retries ran out. */
export class Contention extends StampedeError {
  readonly code = 'contention';
  constructor(
    readonly retryAfterSeconds: number,
    attempts: number,
  ) {
    super(`Too many concurrent buyers for the same tickets (gave up after ${attempts} attempts); retry shortly.`);
  }
}

/** Retryable: DynamoDB throttled us after the SDK's own retries. */
export class ThroughputExceeded extends StampedeError {
  readonly code = 'throughput_exceeded';
  constructor(readonly retryAfterSeconds: number) {
    super('The ticket store is at capacity; retry shortly.');
  }
}

export function isRetryable(error: unknown): error is Contention | ThroughputExceeded {
  return error instanceof Contention || error instanceof ThroughputExceeded;
}
