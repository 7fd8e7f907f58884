import { describe, expect, it } from 'vitest';
import * as errors from '../../functions/domain/errors';
import { errorResponse } from '../../functions/http/responses';

const capture = () => {
  const lines: unknown[][] = [];
  return { log: { error: (...a: unknown[]) => lines.push(a), warn: () => undefined, info: () => undefined }, lines };
};

describe('errors to HTTP, in one place', () => {
  it.each([
    [new errors.InvalidRequest('bad', [{ field: 'name', problem: 'is required' }]), 400, 'invalid_request'],
    [new errors.UnsafeStrategyDisabled(), 403, 'unsafe_strategy_disabled'],
    [new errors.EventNotFound('evt_x'), 404, 'event_not_found'],
    [new errors.ReservationNotFound('res_x'), 404, 'reservation_not_found'],
    [new errors.SoldOut(2, 1), 409, 'sold_out'],
    [new errors.BuyerLimitExceeded(10, 9), 409, 'buyer_limit_exceeded'],
    [new errors.NotHeld('res_x', 'RELEASED'), 409, 'not_held'],
    [new errors.HoldExpired('res_x', 0), 410, 'hold_expired'],
    [new errors.IdempotencyKeyReused(), 422, 'idempotency_key_reused'],
    [new errors.Contention(2, 10), 503, 'contention'],
    [new errors.ThroughputExceeded(1), 503, 'throughput_exceeded'],
  ])('%s → %i %s', (error, status, code) => {
    const { log, lines } = capture();
    const response = errorResponse(error, log, 'req-1');
    const body = JSON.parse(response.body!);
    expect(response.statusCode).toBe(status);
    expect(body.error).toBe(code);
    expect(body.message).toBe(error.message);
    expect(lines).toEqual([]);
  });

  it('includes field details for invalid requests and Retry-After for retryable errors', () => {
    const { log } = capture();
    expect(JSON.parse(errorResponse(new errors.InvalidRequest('bad', [{ field: 'f', problem: 'p' }]), log, 'r').body!).details).toEqual({
      fields: [{ field: 'f', problem: 'p' }],
    });
    expect(errorResponse(new errors.Contention(2, 10), log, 'r').headers).toMatchObject({ 'retry-after': '2' });
    expect(errorResponse(new errors.SoldOut(1, 0), log, 'r').headers).not.toHaveProperty('retry-after');
  });

  it('hides unknown errors behind a generic 500 and logs the cause', () => {
    const { log, lines } = capture();
    const cause = new Error('ValidationException: secret table detail');
    const response = errorResponse(cause, log, 'req-42');
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body!)).toEqual({ error: 'internal_error', message: 'Something went wrong on our side (request req-42).' });
    expect(response.body).not.toContain('secret');
    expect(lines).toEqual([['Unhandled error', { requestId: 'req-42', error: cause }]]);
  });
});
