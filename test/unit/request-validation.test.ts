import { describe, expect, it } from 'vitest';
import { InvalidRequest } from '../../functions/domain/errors';
import { parseNewEvent, parseReserveBody } from '../../functions/http/bodies';
import { HttpRequest } from '../../functions/http/request';
import { parseIdempotencyKey } from '../../functions/http/validation';

function problems(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequest);
    return (error as InvalidRequest).problems;
  }
  throw new Error('expected an InvalidRequest');
}

describe('POST /events body', () => {
  it('accepts a minimal body and leaves defaults to the domain', () => {
    expect(parseNewEvent({ name: 'Gig', capacity: 100 })).toEqual({ name: 'Gig', capacity: 100 });
  });

  it('accepts every field at its limits', () => {
    const body = { name: 'x'.repeat(200), capacity: 1_000_000, strategy: 'optimistic', shards: 1_000, holdSeconds: 86_400, maxPerBuyer: 100 };
    expect(parseNewEvent(body)).toEqual(body);
  });

  it('lists every problem at once, unknown fields included', () => {
    expect(problems(() => parseNewEvent({ name: ' ', capacity: 0, strategy: 'fast', shards: 1.5, holdSeconds: 29, maxPerBuyer: 101, colour: 'red' }))).toEqual([
      { field: 'name', problem: 'must not be blank' },
      { field: 'capacity', problem: 'must be between 1 and 1000000' },
      { field: 'strategy', problem: 'must be one of: sharded, transactional, conditional, optimistic, pessimistic, queued, unsafe' },
      { field: 'shards', problem: 'must be an integer' },
      { field: 'holdSeconds', problem: 'must be between 30 and 86400' },
      { field: 'maxPerBuyer', problem: 'must be between 1 and 100' },
      { field: 'colour', problem: 'is not a known field' },
    ]);
  });

  it.each([null, [], 'text', 42])('rejects %j as a body', (body) => {
    expect(problems(() => parseNewEvent(body))).toEqual([{ field: 'body', problem: 'must be a JSON object' }]);
  });

  it('rejects a name with a lone UTF-16 surrogate, which has no UTF-8 form, and accepts paired ones (emoji)', () => {
    expect(problems(() => parseNewEvent(JSON.parse('{"name": "Gig \\ud800", "capacity": 1}')))).toEqual([{ field: 'name', problem: 'must be valid Unicode' }]);
    expect(problems(() => parseNewEvent(JSON.parse('{"name": "\\udc00 Gig", "capacity": 1}')))).toEqual([{ field: 'name', problem: 'must be valid Unicode' }]);
    expect(parseNewEvent({ name: 'Gig 🎸', capacity: 1 })).toEqual({ name: 'Gig 🎸', capacity: 1 });
  });

  it('rejects numbers sent as strings and names that are too long', () => {
    expect(problems(() => parseNewEvent({ name: 'x'.repeat(201), capacity: '10' }))).toEqual([
      { field: 'name', problem: 'must be 1 to 200 characters long' },
      { field: 'capacity', problem: 'must be an integer' },
    ]);
  });
});

describe('POST /events/{eventId}/reservations body and header', () => {
  it('takes a quantity and nothing else: the buyer is the token, never the body', () => {
    expect(parseReserveBody({ quantity: 2 })).toEqual({ quantity: 2 });
    expect(problems(() => parseReserveBody({}))).toEqual([{ field: 'quantity', problem: 'is required' }]);
    // An old client that still names the buyer fails loudly instead of buying under a name it chose.
    expect(problems(() => parseReserveBody({ buyerId: 'alice', quantity: 2 }))).toEqual([{ field: 'buyerId', problem: 'is not a known field' }]);
    expect(problems(() => parseReserveBody({ quantity: 0 }))[0]?.problem).toBe('must be between 1 and 100');
  });

  it('accepts Idempotency-Keys of 1 to 128 printable characters', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey('550e8400-e29b-41d4-a716-446655440000')).toBe('550e8400-e29b-41d4-a716-446655440000');
    expect(parseIdempotencyKey('k'.repeat(128))).toHaveLength(128);
    for (const bad of ['', 'k'.repeat(129), 'has space', 'tab\tkey']) expect(() => parseIdempotencyKey(bad)).toThrow(InvalidRequest);
  });
});

describe('request bodies', () => {
  const request = (body: string | undefined, isBase64Encoded = false) =>
    new HttpRequest({ body, isBase64Encoded, headers: {}, requestContext: { requestId: 'r' } } as never);

  it('parses JSON, including base64-encoded bodies', () => {
    expect(request('{"a":1}').jsonBody()).toEqual({ a: 1 });
    expect(request(Buffer.from('{"a":2}').toString('base64'), true).jsonBody()).toEqual({ a: 2 });
  });

  it('turns a missing, malformed or oversized body into a 400 problem', () => {
    expect(problems(() => request(undefined).jsonBody())).toEqual([{ field: 'body', problem: 'is required' }]);
    expect(problems(() => request('{"a":').jsonBody())).toEqual([{ field: 'body', problem: 'is not valid JSON' }]);
    expect(problems(() => request(`"${'x'.repeat(17_000)}"`).jsonBody())).toEqual([{ field: 'body', problem: 'is too large' }]);
  });
});
