import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ErrorCode, isRetryable, StampedeError } from '../domain/errors';
import type { Log } from '../observability/log';

export type HttpResult = APIGatewayProxyStructuredResultV2;

/** The one place where errors become HTTP status codes. */
export const statusByCode: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  unsafe_strategy_disabled: 403,
  event_not_found: 404,
  reservation_not_found: 404,
  route_not_found: 404,
  payload_too_large: 413,
  sold_out: 409,
  buyer_limit_exceeded: 409,
  not_held: 409,
  hold_expired: 410,
  idempotency_key_reused: 422,
  contention: 503,
  throughput_exceeded: 503,
};

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * `{"error": code, "message": text, "details"?}` for our own errors. Anything else is a bug
 * or an outage: the client gets a generic 500 and the cause goes to the log only.
 */
export function errorResponse(error: unknown, log: Log, requestId: string): HttpResult {
  if (error instanceof StampedeError) {
    const body = { error: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) };
    const headers: Record<string, string> = isRetryable(error) ? { 'retry-after': String(error.retryAfterSeconds) } : {};
    return json(statusByCode[error.code], body, headers);
  }
  log.error('Unhandled error', { requestId, error });
  return json(500, { error: 'internal_error', message: `Something went wrong on our side (request ${requestId}).` });
}
