import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { errorBody, eventView, reservationView } from '../../functions/http/response-schemas';
import { type LocalStack, startLocalStack } from '../../local/local-stack';
import { httpApi, type Stampede, stampede } from '../support/api';

// Acceptance: the same steps as the in-process tests, over HTTP through the local server
// that `npm start` runs (route table → API Gateway v2 event → the real handler module).
let stack: LocalStack;
let api: Stampede;
let raw: ReturnType<typeof httpApi>;

beforeAll(async () => {
  stack = await startLocalStack({ port: 0, tableName: 'stampede-test', dynamoDbEndpoint: inject('dynamoDbEndpoint') });
  raw = httpApi(stack.url);
  api = stampede(raw);
});
afterAll(() => stack.stop());

describe('the local HTTP API', () => {
  it('runs a sale end to end: create, hold, replay, confirm, release, sold out', async () => {
    const created = await api.createEvent({ name: 'Over HTTP', capacity: 3, strategy: 'transactional', maxPerBuyer: 3 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Over HTTP',
      capacity: 3,
      strategy: 'transactional',
      shards: 1,
      holdSeconds: 600,
      maxPerBuyer: 3,
      available: 3,
    });
    expect(created.headers['content-type']).toBe('application/json');
    const { eventId } = created.body;

    const first = await api.reserve(eventId, { buyerId: 'alice', quantity: 2 }, 'http-key-1');
    const replay = await api.reserve(eventId, { buyerId: 'alice', quantity: 2 }, 'http-key-1');
    expect([first.status, replay.status]).toEqual([201, 200]);
    expect(replay.body.reservationId).toBe(first.body.reservationId);

    const confirmed = await api.confirm(first.body.reservationId);
    expect(confirmed.body.status).toBe('CONFIRMED');
    const second = await api.reserve(eventId, { buyerId: 'bob', quantity: 1 });
    expect((await api.reserve(eventId, { buyerId: 'carol', quantity: 1 })).body).toMatchObject({ error: 'sold_out' });
    expect((await api.release(second.body.reservationId)).body.status).toBe('RELEASED');
    expect((await api.getEvent(eventId)).body.available).toBe(1);
    expect((await api.getReservation(first.body.reservationId)).body).toMatchObject({ status: 'CONFIRMED', quantity: 2 });

    // Every answer has the shape the OpenAPI document publishes.
    for (const event of [created.body, (await api.getEvent(eventId)).body]) v.parse(eventView, event);
    for (const reservation of [first.body, replay.body, confirmed.body, second.body]) v.parse(reservationView, reservation);
    v.parse(errorBody, (await api.reserve(eventId, { buyerId: 'dave', quantity: 2 })).body);
  });

  it('serves its OpenAPI document, the one docs/openapi.json holds', async () => {
    const answer = await raw.request('GET', '/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ openapi: '3.1.0', paths: { '/events': { post: { operationId: 'CreateEvent' } } } });
  });

  it('answers bad input with a 4xx JSON error and changes nothing', async () => {
    const { body: event } = await api.createEvent({ name: 'Strict', capacity: 5 });
    const answers = await Promise.all([
      raw.request('POST', '/events', { rawBody: '{"name": "x", ' }),
      raw.request('POST', `/events/${event.eventId}/reservations`, { body: { buyerId: 'a', quantity: 11 } }),
      raw.request('POST', `/events/${event.eventId}/reservations`, { body: { buyerId: 'a', quantity: 1, vip: true } }),
      raw.request('POST', `/events/${event.eventId}/reservations`, { body: { buyerId: 'a', quantity: 1 }, headers: { 'idempotency-key': 'x'.repeat(129) } }),
      raw.request('GET', '/no/such/route'),
      raw.request('PUT', '/events'),
      // Broken percent-encoding (a cut UTF-8 sequence, a lone %) is the client's error, not a 500.
      raw.request('GET', '/reservations/%E0%A4%A'),
      raw.request('POST', '/reservations/%/confirm'),
    ]);
    expect(answers.map((a) => [a.status, a.body.error])).toEqual([
      [400, 'invalid_request'],
      [400, 'invalid_request'],
      [400, 'invalid_request'],
      [400, 'invalid_request'],
      [404, 'route_not_found'],
      [404, 'route_not_found'],
      [400, 'invalid_request'],
      [400, 'invalid_request'],
    ]);
    for (const answer of answers) v.parse(errorBody, answer.body);
    expect((await api.getEvent(event.eventId)).body.available).toBe(5);
  });
});
