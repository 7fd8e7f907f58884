import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config';
import { createDocumentClient } from '../../functions/data/dynamodb-client';
import { lockKey } from '../../functions/data/items/lock-item';
import { ManualClock } from '../../functions/domain/clock';
import { inProcessApi, stampede } from '../support/api';
import { audit } from '../support/audit';
import { buy, countBy } from '../support/buyers';
import { afterCalls, beforeCalls, type CallInfo, loseFirstAnswer, sdkError } from '../support/faults';
import { type TestAppOptions, testApp } from '../support/test-app';

// The lease and the fencing token of the `pessimistic` strategy, forced through the interleavings
// a lease lock exists for. Each "process" is an app with its own DynamoDB client (a Lambda
// environment); they share the table and, where time matters, one ManualClock.
const lease = 2_000;

const touchesLock = (call: CallInfo) => JSON.stringify(call.input.Key ?? '').includes('#LOCK');
const isAcquire = (call: CallInfo) => call.operation === 'UpdateItem' && touchesLock(call) && call.input.ReturnValues === 'UPDATED_NEW';
const isHeartbeat = (call: CallInfo) =>
  call.operation === 'UpdateItem' && touchesLock(call) && call.input.UpdateExpression === 'SET #recordVersion = :recordVersion';
const isInventoryRead = (call: CallInfo) => /GetItem$/.test(call.operation) && JSON.stringify(call.input).includes('#SHARD#');

/** A process of the API, on its own client (hook faults into `db` before calling). */
function apiProcess(options: TestAppOptions = {}) {
  const config = { ...loadConfig(), lockLeaseMs: lease, ...options.config };
  const db = options.db ?? createDocumentClient(config);
  const app = testApp({ random: () => 0.5, ...options, db, config });
  return { app, db, api: stampede(inProcessApi(app)) };
}

async function lockOf(db: DynamoDBDocumentClient, eventId: string) {
  const { Item } = await db.send(new GetCommand({ TableName: loadConfig().tableName, Key: lockKey(eventId), ConsistentRead: true }));
  return Item ?? {};
}

/** Holds the first inventory read a process makes under the lock until `resume`: its critical section lasts as long as the test wants. */
function pauseAfterReadsUnderLock(db: DynamoDBDocumentClient) {
  let holding = false;
  let paused = false;
  let hasRead!: () => void;
  let resume!: () => void;
  const read = new Promise<void>((resolve) => {
    hasRead = resolve;
  });
  const resumed = new Promise<void>((resolve) => {
    resume = resolve;
  });
  afterCalls(db, isAcquire, () => {
    holding = true;
  });
  afterCalls(
    db,
    (call) => holding && isInventoryRead(call),
    async () => {
      paused = true;
      hasRead();
      await resumed;
    },
  );
  return { read, resumed, resume, isPaused: () => paused };
}

/** Counts a process's transactions: sent, and committed (those that came back without an error). */
function countTransactions(db: DynamoDBDocumentClient) {
  const transactions = { sent: 0, committed: 0 };
  const isTransaction = (call: CallInfo) => call.operation === 'TransactWriteItems';
  beforeCalls(db, isTransaction, () => void transactions.sent++);
  afterCalls(db, isTransaction, () => void transactions.committed++);
  return transactions;
}

describe('pessimistic: the lease and the fencing token', () => {
  it('writes nothing for a holder paused past its lease: the next holder takes the lock over and the paused one is fenced', async () => {
    const clock = new ManualClock();
    const { api: organizer, app, db } = apiProcess({ clock });
    const { body: event } = await organizer.createEvent({ name: 'fenced', capacity: 3, strategy: 'pessimistic', maxPerBuyer: 3 });

    // A takes the lock (token 1), reads 3 tickets left, then pauses (a long GC pause, a frozen
    // environment): nothing it sends goes out until it resumes, its heartbeats included.
    const aDb = createDocumentClient(loadConfig());
    const paused = pauseAfterReadsUnderLock(aDb);
    beforeCalls(aDb, paused.isPaused, () => paused.resumed);
    const transactions = countTransactions(aDb);
    const a = apiProcess({ db: aDb, clock, config: { holdBudgetMs: 60_000 } });
    const aAnswer = a.api.reserve(event.eventId, { buyer: 'alice', quantity: 1 }, `${event.eventId}-alice`);
    await paused.read;

    // B, another process, finds the lock held, watches its recordVersion on its own clock and
    // takes it over once it has stayed the same for a whole lease; then it sells 2 of the 3.
    const bDb = createDocumentClient(loadConfig());
    let tookOverAt: number | undefined;
    afterCalls(bDb, isAcquire, () => {
      tookOverAt = clock.now();
    });
    const b = apiProcess({ db: bDb, clock, sleep: async (ms) => clock.advance(ms) });
    const waitFrom = clock.now();
    const bAnswer = await b.api.reserve(event.eventId, { buyer: 'bob', quantity: 2 }, `${event.eventId}-bob`);
    expect(bAnswer.status, JSON.stringify(bAnswer.body)).toBe(201);
    expect(tookOverAt! - waitFrom).toBeGreaterThanOrEqual(lease);
    expect(tookOverAt! - waitFrom).toBeLessThan(2 * lease);
    expect(await lockOf(db, event.eventId)).toMatchObject({ fencingToken: 2 });

    // A resumes and sends the transaction it computed from 3 tickets (leaving 2): the fencing
    // check cancels it whole. It starts over under a new lock, reads 1 left and takes it.
    paused.resume();
    const aResponse = await aAnswer;
    expect([aResponse.status, aResponse.body.quantity]).toEqual([201, 1]);
    expect(transactions).toEqual({ sent: 2, committed: 1 });
    const lock = await lockOf(db, event.eventId);
    expect(lock.fencingToken).toBe(3);
    expect(lock.owner).toBeUndefined();
    const books = await audit(app, event.eventId);
    expect(books.violations).toEqual([]);
    expect(books).toMatchObject({ sold: 3, remaining: 0, oversold: 0, lost: 0, reservations: 2 });
  });

  it('fences a paused holder whose lease was taken over even when the new holder has written nothing yet', async () => {
    // Here the inventory's version check cannot save the day: B took the lock over and read, but
    // has not written when A resumes, so A's transaction finds the inventory exactly as A read it.
    // Only the fencing condition on the lock, in the same transaction, stops A.
    const clock = new ManualClock();
    const { api: organizer, app, db } = apiProcess({ clock });
    const { body: event } = await organizer.createEvent({ name: 'fenced early', capacity: 3, strategy: 'pessimistic', maxPerBuyer: 3 });
    /** A process held after its first read under the lock; its waits move the clock once `waitsMoveClock()` says so. */
    const pausedProcess = (waitsMoveClock: () => boolean) => {
      const processDb = createDocumentClient(loadConfig());
      const paused = pauseAfterReadsUnderLock(processDb);
      beforeCalls(processDb, paused.isPaused, () => paused.resumed);
      const transactions = countTransactions(processDb);
      const sleep = async (ms: number) => {
        if (waitsMoveClock()) clock.advance(ms);
        else await new Promise((resolve) => setTimeout(resolve, ms));
      };
      return { ...apiProcess({ db: processDb, clock, sleep, config: { holdBudgetMs: 60_000 } }), paused, transactions };
    };

    // A's heartbeat timer runs on real time until A resumes (it is held meanwhile); B waits on the clock.
    let aResumed = false;
    const a = pausedProcess(() => aResumed);
    const aAnswer = a.api.reserve(event.eventId, { buyer: 'alice', quantity: 1 }, `${event.eventId}-alice`);
    await a.paused.read; // A holds the lock (token 1) and read 3 left
    const b = pausedProcess(() => true);
    const bAnswer = b.api.reserve(event.eventId, { buyer: 'bob', quantity: 2 }, `${event.eventId}-bob`);
    await b.paused.read; // B took A's stale lock over (token 2), read 3 left, and pauses before writing
    expect(await lockOf(db, event.eventId)).toMatchObject({ fencingToken: 2 });

    // A resumes and sends what it computed from 3 tickets. The inventory is as A read it, and
    // the transaction is still cancelled: the lock is not A's. A starts over: it takes the lock
    // over from the paused B, reads 3 left and takes 1.
    aResumed = true;
    a.paused.resume();
    const aResponse = await aAnswer;
    expect([aResponse.status, aResponse.body.quantity]).toEqual([201, 1]);
    expect(a.transactions).toEqual({ sent: 2, committed: 1 });
    expect(await lockOf(db, event.eventId)).toMatchObject({ fencingToken: 3 });

    // B resumes, is fenced in turn, and starts over: 2 left, it takes them.
    b.paused.resume();
    const bResponse = await bAnswer;
    expect([bResponse.status, bResponse.body.quantity]).toEqual([201, 2]);
    expect(b.transactions).toEqual({ sent: 2, committed: 1 });
    const books = await audit(app, event.eventId);
    expect(books.violations).toEqual([]);
    expect(books).toMatchObject({ sold: 3, remaining: 0, oversold: 0, lost: 0, reservations: 2 });
  });

  it('lets a crashed holder block the event for at most its lease', async () => {
    const clock = new ManualClock();
    const { api: organizer, app, db } = apiProcess({ clock });
    const { body: event } = await organizer.createEvent({ name: 'crashed holder', capacity: 5, strategy: 'pessimistic' });

    // A dies right after taking the lock: no read, no release, no heartbeat ever reaches DynamoDB.
    const aDb = createDocumentClient(loadConfig());
    let dead = false;
    afterCalls(aDb, isAcquire, () => {
      dead = true;
    });
    beforeCalls(
      aDb,
      () => dead,
      () => {
        throw sdkError('ProcessKilled');
      },
    );
    expect((await apiProcess({ db: aDb, clock }).api.reserve(event.eventId, { buyer: 'alice', quantity: 1 })).status).toBe(500);
    expect(await lockOf(db, event.eventId)).toMatchObject({ fencingToken: 1, owner: expect.any(String) });

    const bDb = createDocumentClient(loadConfig());
    let tookOverAt: number | undefined;
    afterCalls(bDb, isAcquire, () => {
      tookOverAt = clock.now();
    });
    const b = apiProcess({ db: bDb, clock, sleep: async (ms) => clock.advance(ms) });
    const waitFrom = clock.now();
    const answer = await b.api.reserve(event.eventId, { buyer: 'bob', quantity: 2 });

    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(tookOverAt! - waitFrom).toBeGreaterThanOrEqual(lease);
    expect(tookOverAt! - waitFrom).toBeLessThan(2 * lease);
    const lock = await lockOf(db, event.eventId);
    expect([lock.fencingToken, lock.owner]).toEqual([2, undefined]);
    const books = await audit(app, event.eventId);
    expect(books.violations).toEqual([]);
    expect(books).toMatchObject({ held: 2, remaining: 3, reservations: 1 });
  });

  it('keeps the lock of a holder that works longer than its lease but heartbeats', async () => {
    const clock = new ManualClock();
    const { api: organizer, app, db } = apiProcess({ clock });
    const { body: event } = await organizer.createEvent({ name: 'slow holder', capacity: 5, strategy: 'pessimistic' });

    // A's critical section lasts until the test resumes it; its heartbeat timer is what moves the
    // clock (a third of a lease per beat), so time passes only while A is alive and beating.
    const aDb = createDocumentClient(loadConfig());
    const paused = pauseAfterReadsUnderLock(aDb);
    let heartbeats = 0;
    afterCalls(aDb, isHeartbeat, () => void heartbeats++);
    const a = apiProcess({ db: aDb, clock, sleep: async (ms) => clock.advance(ms) });
    const started = clock.now();
    const aAnswer = a.api.reserve(event.eventId, { buyer: 'alice', quantity: 1 });
    await paused.read;

    // B looks at the lock as often as it can (its pauses take no time): every look between two
    // beats sees a recordVersion at most a third of a lease old, so it never takes the lock over,
    // and its budget runs out on A's clock.
    const b = apiProcess({ clock, sleep: () => new Promise((resolve) => setImmediate(resolve)) });
    const refused = await b.api.reserve(event.eventId, { buyer: 'bob', quantity: 2 }, `${event.eventId}-bob`);

    expect([refused.status, refused.body.error]).toEqual([503, 'contention']);
    expect(clock.now() - started).toBeGreaterThan(2 * lease);
    expect(heartbeats).toBeGreaterThanOrEqual(6);
    expect(await lockOf(db, event.eventId)).toMatchObject({ fencingToken: 1, owner: expect.any(String) });

    paused.resume();
    expect((await aAnswer).status).toBe(201);
    expect(await lockOf(db, event.eventId)).toMatchObject({ fencingToken: 1 });
    expect((await b.api.reserve(event.eventId, { buyer: 'bob', quantity: 2 }, `${event.eventId}-bob`)).status).toBe(201);
    const books = await audit(app, event.eventId);
    expect(books.violations).toEqual([]);
    expect(books).toMatchObject({ held: 3, remaining: 2, reservations: 2 });
  });

  it.each([
    ['timed out through the SDK retries', () => sdkError('TimeoutError')],
    ['found by the SDK retry, whose condition then failed on its own lock', () => sdkError('ConditionalCheckFailedException')],
  ])('goes on with a lock its acquire took when the answer was lost (%s), instead of blocking the event for a lease', async (_, lostAnswer) => {
    const clock = new ManualClock();
    const { api: organizer, app, db } = apiProcess({ clock });
    const { body: event } = await organizer.createEvent({ name: 'lost acquire', capacity: 5, strategy: 'pessimistic' });
    const aDb = createDocumentClient(loadConfig());
    const lost = loseFirstAnswer(aDb, isAcquire, lostAnswer);
    const a = apiProcess({ db: aDb, clock, sleep: async (ms) => clock.advance(ms) });
    const started = clock.now();

    const answer = await a.api.reserve(event.eventId, { buyer: 'alice', quantity: 2 });

    expect(lost()).toBe(1);
    expect([answer.status, answer.body.status]).toEqual([201, 'HELD']);
    expect(clock.now() - started).toBeLessThan(lease); // never waited for its own lease to run out
    const lock = await lockOf(db, event.eventId);
    expect([lock.fencingToken, lock.owner]).toEqual([1, undefined]); // one acquire, released by the hold
    const books = await audit(app, event.eventId);
    expect(books.violations).toEqual([]);
    expect(books).toMatchObject({ held: 2, remaining: 3, reservations: 1 });
  });

  it('learns the holder from a refused acquire without reading the lock, where DynamoDB returns the old item (as AWS does)', async () => {
    const { api: organizer, app } = apiProcess();
    const { body: event } = await organizer.createEvent({ name: 'refused acquire', capacity: 5, strategy: 'pessimistic' });
    const aDb = createDocumentClient(loadConfig());
    const paused = pauseAfterReadsUnderLock(aDb);
    const aAnswer = apiProcess({ db: aDb }).api.reserve(event.eventId, { buyer: 'alice', quantity: 1 });
    await paused.read;

    // AWS answers a failed condition with the item when asked (ReturnValuesOnConditionCheckFailure);
    // DynamoDB Local does not, so B's client adds it as AWS would, only when the acquire asks.
    const bDb = createDocumentClient(loadConfig());
    let lockReads = 0;
    let refused = 0;
    bDb.middlewareStack.add(
      (next, context) => async (args) => {
        const call = { operation: (context.commandName ?? '').replace(/Command$/, ''), input: args.input as Record<string, any> };
        if (/GetItem$/.test(call.operation) && touchesLock(call)) lockReads++;
        try {
          return await next(args);
        } catch (error) {
          if (!isAcquire(call)) throw error;
          refused++;
          if (call.input.ReturnValuesOnConditionCheckFailure !== 'ALL_OLD') throw error;
          throw Object.assign(error as object, { Item: marshall(await lockOf(aDb, event.eventId)) });
        }
      },
      { step: 'initialize', name: 'awsConditionFailureItem' },
    );
    const b = apiProcess({ db: bDb, sleep: () => new Promise((resolve) => setImmediate(resolve)) });
    const bAnswer = b.api.reserve(event.eventId, { buyer: 'bob', quantity: 1 });
    while (refused < 3) await new Promise((resolve) => setImmediate(resolve)); // B keeps looking while A holds the lock
    paused.resume();

    expect((await aAnswer).status).toBe(201);
    expect((await bAnswer).status).toBe(201);
    expect(lockReads).toBe(0);
    const books = await audit(app, event.eventId);
    expect(books.violations).toEqual([]);
    expect(books).toMatchObject({ held: 2, remaining: 3, reservations: 2 });
  });

  it('sells exactly the capacity when the buyers of four processes race for the lock in DynamoDB', async () => {
    // Within a process holds take turns for the lock; across processes they race for it in
    // DynamoDB (failed acquires, backoff), which is what this race exercises. Eight requests in
    // flight per process keep DynamoDB Local's connections few on a small machine.
    const processes = Array.from({ length: 4 }, () => apiProcess({ random: Math.random, config: { maxConcurrentRequests: 8, maxSockets: 8 } }));
    const { body: event } = await processes[0]!.api.createEvent({ name: 'four processes', capacity: 40, strategy: 'pessimistic' });

    const responses = await Promise.all(
      Array.from({ length: 120 }, (_, i) => buy(processes[i % 4]!.api, event.eventId, `buyer-${i}`, 1, `${event.eventId}-${i}`)),
    );

    expect(countBy(responses, (r) => r.status)).toEqual({ 201: 40, 409: 80 });
    const lostRaces = processes.reduce((total, { app }) => total + (app.telemetry.snapshot()['pessimistic.Conflict'] ?? 0), 0);
    expect(lostRaces).toBeGreaterThan(0);
    const books = await audit(processes[0]!.app, event.eventId);
    expect(books.violations).toEqual([]);
    expect(books).toMatchObject({ sold: 40, remaining: 0, oversold: 0, lost: 0, reservations: 40 });
  });
});
