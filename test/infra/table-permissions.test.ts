import { resolve } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../functions/app';
import { loadConfig } from '../../functions/config';
import { createDocumentClient } from '../../functions/data/dynamodb-client';
import { ManualClock } from '../../functions/domain/clock';
import { routes, type TableAction } from '../../lib/routes';
import { localContext, toApiGatewayEvent } from '../../local/api-gateway-event';
import type { RouteHandler } from '../../local/http-server';
import { Router } from '../../local/router';
import { type Caller, claimsOf, organizer } from '../support/api';
import { noSleep, testApp } from '../support/test-app';

/**
 * The IAM actions a DynamoDB call needs. Transactions have no action of their own: each
 * item needs the action of its kind.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
 */
function iamActions(command: { constructor: { name: string }; input: Record<string, any> }): string[] {
  const single: Record<string, TableAction | 'dynamodb:Query' | 'dynamodb:Scan'> = {
    GetCommand: 'dynamodb:GetItem',
    PutCommand: 'dynamodb:PutItem',
    UpdateCommand: 'dynamodb:UpdateItem',
    DeleteCommand: 'dynamodb:DeleteItem',
    BatchGetCommand: 'dynamodb:BatchGetItem',
    BatchWriteCommand: 'dynamodb:BatchWriteItem',
    QueryCommand: 'dynamodb:Query',
    ScanCommand: 'dynamodb:Scan',
  };
  const name = command.constructor.name;
  if (single[name]) return [single[name]];
  if (name === 'TransactGetCommand') return command.input.TransactItems.map(() => 'dynamodb:GetItem');
  if (name === 'TransactWriteCommand') {
    const byKind: Record<string, string> = {
      Put: 'dynamodb:PutItem',
      Update: 'dynamodb:UpdateItem',
      Delete: 'dynamodb:DeleteItem',
      ConditionCheck: 'dynamodb:ConditionCheckItem',
    };
    return command.input.TransactItems.map((item: Record<string, unknown>) => byKind[Object.keys(item)[0]!]!);
  }
  throw new Error(`${name} is not mapped to IAM actions: add it here before a handler uses it.`);
}

// Each route gets its own app (as each route is its own Lambda function on AWS), whose
// DynamoDB client records the IAM actions of every call it sends.
const used = new Map<string, Set<string>>(routes.map((route) => [route.id, new Set()]));
const clock = new ManualClock(Date.now());

function recordingClient(routeId: string): DynamoDBDocumentClient {
  const db = createDocumentClient(loadConfig());
  const send = db.send.bind(db) as (command: unknown) => Promise<unknown>;
  (db as { send: unknown }).send = (command: Parameters<typeof iamActions>[0]) => {
    for (const action of iamActions(command)) used.get(routeId)!.add(action);
    return send(command);
  };
  return db;
}

const router = new Router(routes);
const handlers = new Map<string, RouteHandler>();

/** Every call is made by `caller` (an organizer unless said otherwise), as the JWT authorizer would pass it on. */
async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, caller: Caller = organizer) {
  const match = router.match(method, path)!;
  const event = toApiGatewayEvent(
    { method, path, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) },
    match,
    claimsOf(caller, 'cognito:groups'),
  );
  const result = (await handlers.get(match.route.id)!(
    event,
    localContext(match.route.id, event.requestContext.requestId),
  )) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode, body: JSON.parse(result.body!) };
}

const createEvent = async (body: Record<string, unknown>) => {
  const created = await call('POST', '/events', { name: 'Permissions', ...body });
  expect(created.status).toBe(201);
  return created.body.eventId as string;
};
const reserve = (eventId: string, buyerId: string, quantity: number, key?: string) =>
  call('POST', `/events/${eventId}/reservations`, { quantity }, key ? { 'idempotency-key': key } : {}, { sub: buyerId });

beforeAll(async () => {
  for (const route of routes) {
    const module = (await import(resolve(__dirname, '..', '..', route.entry))) as { createHandler: (app: App) => RouteHandler };
    handlers.set(route.id, module.createHandler(testApp({ db: recordingClient(route.id), clock, sleep: noSleep })));
  }

  // Every strategy that can run on AWS, through its success, replay, sold-out and refusal paths.
  const sharded = await createEvent({ capacity: 4, shards: 2, maxPerBuyer: 4 });
  const held = await reserve(sharded, 'ann', 4, 'permissions-ann'); // spans both shards: read first
  expect(held.status).toBe(201);
  expect((await reserve(sharded, 'ann', 4, 'permissions-ann')).status).toBe(200); // replay
  expect((await reserve(sharded, 'bob', 1)).status).toBe(409); // sold out, decided by a read

  const transactional = await createEvent({ capacity: 2, strategy: 'transactional', maxPerBuyer: 2 });
  const toRelease = await reserve(transactional, 'cat', 1);
  const toExpire = await reserve(transactional, 'dan', 1);
  expect((await reserve(transactional, 'eve', 1)).status).toBe(409);

  const conditional = await createEvent({ capacity: 3, strategy: 'conditional', maxPerBuyer: 2 });
  const toConfirm = await reserve(conditional, 'fay', 2);
  expect((await reserve(conditional, 'fay', 1)).body.error).toBe('buyer_limit_exceeded'); // undoes its claim
  expect((await reserve(conditional, 'gus', 1)).status).toBe(201);
  expect((await reserve(conditional, 'hal', 1)).status).toBe(409);

  const optimistic = await createEvent({ capacity: 1, strategy: 'optimistic' });
  expect((await reserve(optimistic, 'ivy', 1)).status).toBe(201);
  expect((await reserve(optimistic, 'jon', 1)).status).toBe(409);

  expect((await call('GET', `/events/${sharded}`)).body.available).toBe(0);
  expect((await call('GET', `/events/${optimistic}`)).body.available).toBe(0);
  const asItsBuyer = (reservation: { body: { buyerId: string } }) => ({ sub: reservation.body.buyerId });
  expect((await call('GET', `/reservations/${held.body.reservationId}`, undefined, {}, asItsBuyer(held))).status).toBe(200);
  expect((await call('POST', `/reservations/${toConfirm.body.reservationId}/confirm`, undefined, {}, asItsBuyer(toConfirm))).body.status).toBe('CONFIRMED');
  expect((await call('DELETE', `/reservations/${toRelease.body.reservationId}`, undefined, {}, asItsBuyer(toRelease))).body.status).toBe('RELEASED');
  clock.advance(24 * 3_600_000);
  // The hold ran out: confirming it answers 410 and returns its tickets, in a transaction.
  expect((await call('POST', `/reservations/${toExpire.body.reservationId}/confirm`, undefined, {}, asItsBuyer(toExpire))).status).toBe(410);
});

describe("each route's table actions", () => {
  it.each(routes.map((route) => [route.id, route]))('%s: the route table lists exactly the actions its code paths send', (_id, route) => {
    expect([...used.get(route.id)!].sort()).toEqual([...route.tableActions].sort());
  });
});
