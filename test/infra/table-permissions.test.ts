import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { App } from '../../functions/app';
import { loadConfig, type StampedeConfig } from '../../functions/config';
import { createDocumentClient } from '../../functions/data/dynamodb-client';
import { ManualClock } from '../../functions/domain/clock';
import { createHandler as createDecideHandler } from '../../functions/handlers/decide-queued';
import { createHandler as createSweepHandler } from '../../functions/handlers/sweep-holds';
import { queueDeciderJob, sweeperJob } from '../../lib/jobs';
import { routes, type TableAction } from '../../lib/routes';
import { localContext, toApiGatewayEvent } from '../../local/api-gateway-event';
import type { RouteHandler } from '../../local/http-server';
import { ensureLocalTable } from '../../local/local-table';
import { Router } from '../../local/router';
import { matches } from '../../local/stream-poller';
import { type Caller, claimsOf, inProcessApi, organizer, stampede } from '../support/api';
import { killAfterFirst, loseFirstAnswerToItsRetry } from '../support/faults';
import { dynamoDbStreamEvent, dynamoDbStreamRecord, scheduledEvent } from '../support/lambda-events';
import { readTableStream } from '../support/table-stream';
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

// Each route and job gets its own app (as each is its own Lambda function on AWS), whose
// DynamoDB client records the IAM actions of every call it sends, and the indexes it queries
// (Query is granted on those only: see StampedeFunction).
const functions = [...routes, sweeperJob, queueDeciderJob];
const used = new Map<string, Set<string>>(functions.map(({ id }) => [id, new Set()]));
const queried = new Map<string, Set<string>>(functions.map(({ id }) => [id, new Set()]));
const clock = new ManualClock(Date.now());
/** Waiting moves the manual clock on, so a wait that ends at a time (a queued request's, for its decision) ends. */
const passTime = async (ms: number) => {
  clock.advance(ms);
};

/** Each route's recording client, for faults a path needs injected. */
const routeClients = new Map<string, DynamoDBDocumentClient>();

function recordingClient(functionId: string, config: StampedeConfig = loadConfig()): DynamoDBDocumentClient {
  const db = createDocumentClient(config);
  if (!routeClients.has(functionId)) routeClients.set(functionId, db);
  const send = db.send.bind(db) as (command: unknown) => Promise<unknown>;
  (db as { send: unknown }).send = (command: Parameters<typeof iamActions>[0]) => {
    for (const action of iamActions(command)) used.get(functionId)!.add(action);
    if (/^(Query|Scan)Command$/.test(command.constructor.name)) queried.get(functionId)!.add(command.input.IndexName ?? 'the table itself');
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
    handlers.set(route.id, module.createHandler(testApp({ db: recordingClient(route.id), clock, sleep: passTime })));
  }
  // The first event's put answers as if its answer was lost and the SDK's retry found the item:
  // creating the event reads it back (the GetItem CreateEvent is granted for that).
  loseFirstAnswerToItsRetry(routeClients.get('CreateEvent')!, (call) => call.operation === 'PutItem' && call.input.Item?.sk === 'EVENT');

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

  // The lease lock: acquired, fenced write, released; the second buyer's refusal is decided by a read.
  const pessimistic = await createEvent({ capacity: 1, strategy: 'pessimistic' });
  expect((await reserve(pessimistic, 'pia', 1)).status).toBe(201);
  expect((await reserve(pessimistic, 'quin', 1)).status).toBe(409);

  // Written to the log at the door; nothing decides it on this table, so it is answered 202 after the wait.
  const queued = await createEvent({ capacity: 1, strategy: 'queued', shards: 1 });
  expect((await reserve(queued, 'ray', 1)).status).toBe(202);

  expect((await call('GET', `/events/${sharded}`)).body.available).toBe(0);
  expect((await call('GET', `/events/${optimistic}`)).body.available).toBe(0);
  const asItsBuyer = (reservation: { body: { buyerId: string } }) => ({ sub: reservation.body.buyerId });
  expect((await call('GET', `/reservations/${held.body.reservationId}`, undefined, {}, asItsBuyer(held))).status).toBe(200);
  expect((await call('POST', `/reservations/${toConfirm.body.reservationId}/confirm`, undefined, {}, asItsBuyer(toConfirm))).body.status).toBe('CONFIRMED');
  expect((await call('DELETE', `/reservations/${toRelease.body.reservationId}`, undefined, {}, asItsBuyer(toRelease))).body.status).toBe('RELEASED');
  clock.advance(24 * 3_600_000);
  // The hold ran out: confirming it answers 410 and returns its tickets, in a transaction.
  expect((await call('POST', `/reservations/${toExpire.body.reservationId}/confirm`, undefined, {}, asItsBuyer(toExpire))).status).toBe(410);

  await sweepAnExpiredAndAnInterruptedHold();
  await decideQueuedRequests();
});

/**
 * The sweeper through all of its paths: an expired hold comes back (a Query per index shard, the
 * batched read, the expiry transaction), a stepwise hold interrupted right after its claim is
 * undone (a Delete), one interrupted after its tally too (the Delete and the tally back, in a
 * transaction), and a queued request nobody decided is turned down (not_decided, its tally back).
 * On a table of its own, so it sweeps exactly what is made here.
 */
async function sweepAnExpiredAndAnInterruptedHold(): Promise<void> {
  const config: StampedeConfig = { ...loadConfig(), tableName: `stampede-permissions-sweep-${randomUUID()}`, queueWaitMs: 0 };
  await ensureLocalTable(inject('dynamoDbEndpoint'), config.tableName);
  const sweepClock = new ManualClock(Date.now());
  const appOnItsTable = (db?: DynamoDBDocumentClient) => testApp({ config, db, clock: sweepClock, sleep: noSleep });
  const api = stampede(inProcessApi(appOnItsTable()));
  const { body: event } = await api.createEvent({ name: 'Sweeper permissions', capacity: 4, strategy: 'conditional', holdSeconds: 30 });
  expect((await api.reserve(event.eventId, { buyer: 'kim', quantity: 1 })).status).toBe(201);
  // The process dies once the claim (PutItem, PENDING) is written: no later call, not even the undo, reaches DynamoDB.
  const dying = createDocumentClient(config);
  killAfterFirst(dying, (call) => call.operation === 'PutItem');
  expect((await stampede(inProcessApi(appOnItsTable(dying))).reserve(event.eventId, { buyer: 'lou', quantity: 1 })).status).toBe(500);
  // Another dies once its tally (the first transaction: tally and stage together) is written.
  const dyingLater = createDocumentClient(config);
  killAfterFirst(dyingLater, (call) => call.operation === 'TransactWriteItems');
  expect((await stampede(inProcessApi(appOnItsTable(dyingLater))).reserve(event.eventId, { buyer: 'max', quantity: 1 })).status).toBe(500);
  const { body: queuedEvent } = await api.createEvent({ name: 'Sweeper permissions, queued', capacity: 1, strategy: 'queued', shards: 1 });
  expect((await api.reserve(queuedEvent.eventId, { buyer: 'nia', quantity: 1 })).status).toBe(202);

  // Past the hold's expiry and the interrupted hold's repair time.
  sweepClock.advance(24 * 3_600_000);
  const sweep = createSweepHandler(testApp({ config, db: recordingClient(sweeperJob.id, config), clock: sweepClock }));
  expect(await sweep(scheduledEvent('arn:aws:events:us-east-1:123456789012:rule/stampede-sweeper'))).toMatchObject({
    due: 4,
    expired: 1,
    repaired: 2,
    rejected: 1,
  });
}

/**
 * The queued consumer through its paths, with the records its stream mapping hands it: requests
 * decided in order as holds (the event and inventory reads, the batched read of what is still
 * queued, a chunk's transaction) and as sold out (each rejection's transaction), then one record
 * delivered again (found decided by the batched read, left alone). On a table of its own, so its
 * stream holds exactly what is made here.
 */
async function decideQueuedRequests(): Promise<void> {
  const endpoint = inject('dynamoDbEndpoint');
  const config: StampedeConfig = { ...loadConfig(), tableName: `stampede-permissions-queued-${randomUUID()}`, queueWaitMs: 0 };
  await ensureLocalTable(endpoint, config.tableName);
  const api = stampede(inProcessApi(testApp({ config })));
  const { body: event } = await api.createEvent({ name: 'Decider permissions', capacity: 3, strategy: 'queued', shards: 1, maxPerBuyer: 2 });
  const requests: { reservationId: string; buyerId: string }[] = [];
  for (const [buyer, quantity] of [
    ['mia', 2],
    ['ned', 2],
    ['oli', 1],
  ] as const) {
    const queued = await api.reserve(event.eventId, { buyer, quantity });
    expect(queued.status).toBe(202);
    requests.push(queued.body);
  }

  const streamArn = `arn:aws:dynamodb:us-east-1:123456789012:table/${config.tableName}/stream/2026-01-01T00:00:00.000`;
  const records = (await readTableStream(endpoint, config.tableName))
    .map((record) => dynamoDbStreamRecord(record, streamArn))
    .filter((record) => matches(record, queueDeciderJob.filter));
  expect(records).toHaveLength(3);
  const decider = testApp({ config, db: recordingClient(queueDeciderJob.id, config) });
  const decide = createDecideHandler(decider);
  expect(await decide(dynamoDbStreamEvent(records))).toEqual({ batchItemFailures: [] });
  const decided = async () => Promise.all(requests.map(async (request) => (await api.getReservation(request)).body.status));
  expect(await decided()).toEqual(['HELD', 'REJECTED', 'HELD']);
  expect(decider.telemetry.snapshot()).toEqual({ 'queued.QueueHeld': 2, 'queued.QueueRejected': 1 });
  // Redelivered (a retried batch, a restarted mapping): decided already, so nothing is decided again.
  expect(await decide(dynamoDbStreamEvent(records.slice(1, 2)))).toEqual({ batchItemFailures: [] });
  expect(await decided()).toEqual(['HELD', 'REJECTED', 'HELD']);
  expect(decider.telemetry.snapshot()).toEqual({ 'queued.QueueHeld': 2, 'queued.QueueRejected': 1 });
}

describe("each function's table actions", () => {
  it.each(routes.map((route) => [route.id, route]))('%s: the route table lists exactly the actions its code paths send', (_id, route) => {
    expect([...used.get(route.id)!].sort()).toEqual([...route.tableActions].sort());
  });

  it.each([
    [sweeperJob.id, sweeperJob],
    [queueDeciderJob.id, queueDeciderJob],
  ])('%s: its job lists exactly the actions its code paths send', (_id, job) => {
    expect([...used.get(job.id)!].sort()).toEqual([...job.tableActions].sort());
  });

  it.each(functions.map((fn) => [fn.id, 'indexes' in fn ? fn.indexes : []] as const))(
    '%s: queries exactly the indexes it lists, never the table itself',
    (id, indexes) => {
      expect([...queried.get(id)!].sort()).toEqual([...indexes].sort());
    },
  );
});
