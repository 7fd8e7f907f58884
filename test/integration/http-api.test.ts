import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { importJWK, type JWK, SignJWT } from 'jose';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../functions/config';
import { createDocumentClient } from '../../functions/data/dynamodb-client';
import { errorBody, eventView, reservationView } from '../../functions/http/response-schemas';
import { localAudience, newPrivateJwk } from '../../local/jwt-issuer';
import { type LocalStack, startLocalStack } from '../../local/local-stack';
import { type Api, httpApi, organizer, type Stampede, stampede } from '../support/api';

// Acceptance: the same steps as the in-process tests, over HTTP through the local server
// that `npm start` runs (route table → the stand-in for the JWT authorizer → API Gateway v2
// event → the real handler module), with real tokens from its local issuer.
let stack: LocalStack;
let api: Stampede;
let raw: Api;
let issuerKey: JWK;

beforeAll(async () => {
  issuerKey = await newPrivateJwk();
  stack = await startLocalStack({ port: 0, tableName: 'stampede-test', dynamoDbEndpoint: inject('dynamoDbEndpoint'), issuerKey });
  raw = httpApi(stack.url, stack.issuer);
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

    const first = await api.reserve(eventId, { buyer: 'alice', quantity: 2 }, 'http-key-1');
    const replay = await api.reserve(eventId, { buyer: 'alice', quantity: 2 }, 'http-key-1');
    expect([first.status, replay.status]).toEqual([201, 200]);
    expect(replay.body.reservationId).toBe(first.body.reservationId);

    const confirmed = await api.confirm(first.body);
    expect(confirmed.body.status).toBe('CONFIRMED');
    const second = await api.reserve(eventId, { buyer: 'bob', quantity: 1 });
    expect((await api.reserve(eventId, { buyer: 'carol', quantity: 1 })).body).toMatchObject({ error: 'sold_out' });
    expect((await api.release(second.body)).body.status).toBe('RELEASED');
    expect((await api.getEvent(eventId)).body.available).toBe(1);
    expect((await api.getReservation(first.body)).body).toMatchObject({ status: 'CONFIRMED', quantity: 2 });

    // Every answer has the shape the OpenAPI document publishes.
    for (const event of [created.body, (await api.getEvent(eventId)).body]) v.parse(eventView, event);
    for (const reservation of [first.body, replay.body, confirmed.body, second.body]) v.parse(reservationView, reservation);
    v.parse(errorBody, (await api.reserve(eventId, { buyer: 'dave', quantity: 2 })).body);
  });

  it('serves its OpenAPI document, the one docs/openapi.json holds', async () => {
    const answer = await raw.request('GET', '/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(JSON.parse(readFileSync(resolve(__dirname, '../../docs/openapi.json'), 'utf8')));
  });

  it('answers bad input with a 4xx JSON error and changes nothing', async () => {
    const { body: event } = await api.createEvent({ name: 'Strict', capacity: 5 });
    const buyer = { sub: 'a' };
    const answers = await Promise.all([
      raw.request('POST', '/events', { rawBody: '{"name": "x", ', caller: organizer }),
      raw.request('POST', `/events/${event.eventId}/reservations`, { body: { quantity: 11 }, caller: buyer }),
      raw.request('POST', `/events/${event.eventId}/reservations`, { body: { quantity: 1, vip: true }, caller: buyer }),
      raw.request('POST', `/events/${event.eventId}/reservations`, { body: { quantity: 1 }, headers: { 'idempotency-key': 'x'.repeat(129) }, caller: buyer }),
      raw.request('GET', '/no/such/route'),
      raw.request('PUT', '/events'),
      // Broken percent-encoding (a cut UTF-8 sequence, a lone %) names no reservation: 404, not a 500.
      raw.request('GET', '/reservations/%E0%A4%A', { caller: buyer }),
      raw.request('POST', '/reservations/%/confirm', { caller: buyer }),
      // A path that a URL resolver would read as a host (`//%`) once threw outside the error mapping and stopped the server.
      raw.request('GET', '//%'),
      raw.request('GET', '//['),
    ]);
    expect(answers.map((a) => [a.status, a.body.error])).toEqual([
      [400, 'invalid_request'],
      [400, 'invalid_request'],
      [400, 'invalid_request'],
      [400, 'invalid_request'],
      [404, 'route_not_found'],
      [404, 'route_not_found'],
      [404, 'reservation_not_found'],
      [404, 'reservation_not_found'],
      [404, 'route_not_found'],
      [404, 'route_not_found'],
    ]);
    for (const answer of answers) v.parse(errorBody, answer.body);
    // Every answer of a route that exists is one its published contract lists.
    const document = JSON.parse(readFileSync(resolve(__dirname, '../../docs/openapi.json'), 'utf8'));
    const routeOf = [
      'post /events',
      ...Array(3).fill('post /events/{eventId}/reservations'),
      '',
      '',
      'get /reservations/{reservationId}',
      'post /reservations/{reservationId}/confirm',
    ];
    routeOf.forEach((route, index) => {
      if (!route) return;
      const [method, path] = route.split(' ');
      expect(Object.keys(document.paths[path!][method!].responses), route).toContain(String(answers[index]!.status));
    });
    expect((await api.getEvent(event.eventId)).body.available).toBe(5);
  });
});

describe('identity at the door', () => {
  /** A token signed with `key` (the issuer's own unless another is given), claims as given. */
  const signed = async (claims: Record<string, unknown>, options: { key?: JWK; alg?: string; kid?: string | null } = {}) => {
    const key = options.key ?? issuerKey;
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: options.alg ?? 'RS256', ...(options.kid !== null && { kid: options.kid ?? key.kid }) };
    return new SignJWT({ sub: 'mallory', iss: stack.url, aud: localAudience, iat: now, exp: now + 600, ...claims })
      .setProtectedHeader(header)
      .sign(await importJWK(key, header.alg));
  };
  const unsigned = (claims: Record<string, unknown>) => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: 'mallory', iss: stack.url, aud: localAudience, iat: now, exp: now + 600, ...claims })}.`;
  };

  it('answers 401 as API Gateway does to every kind of bad token, on every protected route, and changes nothing', async () => {
    const { body: event } = await api.createEvent({ name: 'Guarded', capacity: 5 });
    const held = (await api.reserve(event.eventId, { buyer: 'alice', quantity: 1 })).body;
    const now = Math.floor(Date.now() / 1000);
    const otherKey = { ...(await newPrivateJwk()), kid: issuerKey.kid };
    const badTokens: Record<string, string | undefined> = {
      missing: undefined,
      'not a JWT': 'not-a-jwt',
      expired: await signed({ exp: now - 1 }),
      'not yet valid': await signed({ nbf: now + 300 }),
      'issued in the future': await signed({ iat: now + 300 }),
      'without exp': await signed({ exp: undefined }),
      'wrongly signed (another key, same kid)': await signed({}, { key: otherKey }),
      'unknown kid': await signed({}, { kid: 'not-a-key-of-the-issuer' }),
      'no kid': await signed({}, { kid: null }),
      'alg none': unsigned({}),
      'HMAC with the public key as secret': await new SignJWT({ sub: 'mallory', iss: stack.url, aud: localAudience, exp: now + 600 })
        .setProtectedHeader({ alg: 'HS256', kid: issuerKey.kid })
        .sign(new TextEncoder().encode(JSON.stringify({ kty: issuerKey.kty, n: issuerKey.n, e: issuerKey.e }))),
      'wrong issuer': await signed({ iss: 'https://evil.example' }),
      'wrong audience': await signed({ aud: 'someone-else' }),
    };
    const sneaky = `Sneaky ${Date.now()}`;
    const routes: [string, string, unknown?][] = [
      ['POST', '/events', { name: sneaky, capacity: 10 }],
      ['POST', `/events/${event.eventId}/reservations`, { quantity: 1 }],
      ['GET', `/reservations/${held.reservationId}`],
      ['POST', `/reservations/${held.reservationId}/confirm`],
      ['DELETE', `/reservations/${held.reservationId}`],
    ];
    for (const [kind, token] of Object.entries(badTokens)) {
      for (const [method, path, body] of routes) {
        const answer = await raw.request(method, path, { body, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
        expect([kind, method, path, answer.status, answer.body]).toEqual([kind, method, path, 401, { message: 'Unauthorized' }]);
        expect(answer.headers['www-authenticate'], kind).toMatch(/^Bearer /);
      }
    }
    expect((await api.getEvent(event.eventId)).body.available).toBe(4);
    expect((await api.getReservation(held)).body.status).toBe('HELD');
    // None of the refused POST /events made an event.
    const db = createDocumentClient(loadConfig());
    const { Items } = await db.send(
      new ScanCommand({
        TableName: 'stampede-test',
        FilterExpression: '#name = :name',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: { ':name': sneaky },
      }),
    );
    db.destroy();
    expect(Items).toEqual([]);
  });

  it('takes the token with or without `Bearer `, as API Gateway does, and refuses a body that names the buyer', async () => {
    const { body: event } = await api.createEvent({ name: 'Bare token', capacity: 5 });
    const token = await stack.issuer.mint({ sub: 'bare' });
    const bare = await raw.request('POST', `/events/${event.eventId}/reservations`, { body: { quantity: 1 }, headers: { authorization: token } });
    expect([bare.status, bare.body.buyerId]).toEqual([201, 'bare']);
    const named = await raw.request('POST', `/events/${event.eventId}/reservations`, {
      body: { quantity: 1, buyerId: 'someone-else' },
      headers: { authorization: `Bearer ${token}` },
    });
    expect([named.status, named.body.error, named.body.details]).toEqual([
      400,
      'invalid_request',
      { fields: [{ field: 'buyerId', problem: expect.any(String) }] },
    ]);
    expect((await api.getEvent(event.eventId)).body.available).toBe(4);
  });

  it('serves the event page without a token, and its discovery document and keys', async () => {
    const { body: event } = await api.createEvent({ name: 'Public page', capacity: 5 });
    expect((await raw.request('GET', `/events/${event.eventId}`)).status).toBe(200);
    const discovery = (await raw.request('GET', '/.well-known/openid-configuration')).body;
    expect(discovery).toMatchObject({ issuer: stack.url, jwks_uri: `${stack.url}/.well-known/jwks.json` });
    const { keys } = (await raw.request('GET', '/.well-known/jwks.json')).body;
    expect(keys).toEqual([expect.objectContaining({ kty: 'RSA', kid: issuerKey.kid, alg: 'RS256' })]);
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('mints tokens at POST /_local/tokens that the authorizer accepts, groups included', async () => {
    const minted = await raw.request('POST', '/_local/tokens', { body: { sub: 'oscar', groups: ['organizers'] } });
    expect(minted.status).toBe(201);
    const created = await raw.request('POST', '/events', {
      body: { name: 'By Oscar', capacity: 2 },
      headers: { authorization: `Bearer ${minted.body.token}` },
    });
    expect(created.status).toBe(201);
    const bad = await raw.request('POST', '/_local/tokens', { body: { groups: 'organizers' } });
    expect([bad.status, bad.body.error, bad.body.details.fields.map((f: { field: string }) => f.field)]).toEqual([400, 'invalid_request', ['sub', 'groups']]);
  });

  it('lets only organizers create events: a buyer gets 403 forbidden', async () => {
    const answer = await api.createEvent({ name: 'Not mine to sell', capacity: 10 }, { sub: 'alice' });
    expect([answer.status, answer.body.error]).toEqual([403, 'forbidden']);
    const withOtherGroups = await api.createEvent({ name: 'Still not mine', capacity: 10 }, { sub: 'vic', groups: ['vip', 'press'] });
    expect(withOtherGroups.status).toBe(403);
  });
});
