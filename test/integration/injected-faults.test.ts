import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config';
import { createDocumentClient } from '../../functions/data/dynamodb-client';
import { ManualClock } from '../../functions/domain/clock';
import { buildOpenApi } from '../../lib/openapi';
import { inProcessApi, stampede } from '../support/api';
import { audit } from '../support/audit';
import { buy, countBy } from '../support/buyers';
import {
  afterCalls,
  afterFirstCall,
  beforeCalls,
  type CallInfo,
  loseFirstAnswer,
  loseFirstAnswerToItsRetry,
  sdkError,
  transactionConflict,
} from '../support/faults';
import { ownDynamoDbLocal } from '../support/own-dynamodb-local';
import { appFor } from '../support/queued';
import { testApp } from '../support/test-app';

// Its own DynamoDB Local: late in a full run the shared one is slowed by its stream history
// (own-dynamodb-local.ts), and optimistic's injected conflicts then outlast the test timeout.
const endpoint = ownDynamoDbLocal();
const ownConfig = () => ({ ...loadConfig(), endpoint: endpoint() });

// DynamoDB Local never raises these, so they are injected into the SDK client; everything
// else is the real DynamoDB Local under real concurrency.
const fastRetries = { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 5 };
const touchesInventory = (input: unknown) => JSON.stringify(input).includes('#SHARD#');
/** A hold's take: its transaction on the inventory. */
const isTake = (call: CallInfo) => call.operation === 'TransactWriteItems' && touchesInventory(call.input);

/** The app on a DynamoDB client of its own (faults injected into it reach every later call), with fast retries, and its API. */
function appWithFaults() {
  const db = createDocumentClient(ownConfig());
  const app = testApp({ db, config: { endpoint: endpoint() }, retryPolicy: fastRetries });
  return { db, app, api: stampede(inProcessApi(app)) };
}

function seeded(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

describe('transaction conflicts (as on AWS when buyers collide on a shard)', () => {
  it.each(['sharded', 'transactional', 'pessimistic'] as const)(
    '%s still sells exactly the capacity when a quarter of holds are cancelled',
    async (strategy) => {
      const { db, app, api } = appWithFaults();
      const chance = seeded(7);
      beforeCalls(db, isTake, (call) => {
        if (chance() < 0.25) throw transactionConflict(call.input.TransactItems.length);
      });
      const { body: event } = await api.createEvent({ name: `conflicts ${strategy}`, capacity: 300, strategy });

      const responses = await Promise.all(Array.from({ length: 900 }, (_, i) => buy(api, event.eventId, `b${i}`, 1, `${event.eventId}-${i}`)));

      expect(countBy(responses, (r) => r.status)).toEqual({ 201: 300, 409: 600 });
      expect(app.telemetry.snapshot()[`${strategy}.Conflict`]).toBeGreaterThan(50);
      const report = await audit(app, event.eventId);
      expect(report.violations).toEqual([]);
      expect(report.sold).toBe(300);
    },
  );

  it.each(['conditional', 'optimistic'] as const)(
    '%s retries its steps when they hit conflicts: a single write (TransactionConflictException) or a cancelled transaction',
    async (strategy) => {
      const { db, app, api } = appWithFaults();
      const chance = seeded(11);
      let conflicts = 0;
      // The claim is a single PutItem; the tally and the take are transactions.
      beforeCalls(
        db,
        (call) => call.operation === 'PutItem' || call.operation === 'TransactWriteItems',
        (call) => {
          if (chance() >= 0.25) return;
          conflicts++;
          throw call.operation === 'PutItem' ? sdkError('TransactionConflictException') : transactionConflict(call.input.TransactItems.length);
        },
      );
      const { body: event } = await api.createEvent({ name: `write conflicts ${strategy}`, capacity: 50, strategy });

      // Fewer buyers than the races of sell-out-race.test.ts: the point here is the injected conflicts, and
      // optimistic's own version conflicts grow with every concurrent buyer on a loaded machine.
      const responses = await Promise.all(Array.from({ length: 120 }, (_, i) => buy(api, event.eventId, `b${i}`, 1, `${event.eventId}-${i}`)));

      expect(countBy(responses, (r) => r.status)).toEqual({ 201: 50, 409: 70 });
      // Every buyer answered 201 or 409 (none 503) although a quarter of the writes failed: they were retried.
      expect(conflicts).toBeGreaterThan(20);
      const report = await audit(app, event.eventId);
      expect(report.violations).toEqual([]);
      expect(report.sold).toBe(50);
    },
  );
});

describe('retries that run out', () => {
  it('answers 503 with Retry-After and changes nothing when every hold conflicts', async () => {
    const { db, app, api } = appWithFaults();
    const { body: event } = await api.createEvent({ name: 'hopeless', capacity: 10, strategy: 'transactional' });
    beforeCalls(
      db,
      (call) => call.operation === 'TransactWriteItems',
      (call) => {
        throw transactionConflict(call.input.TransactItems.length);
      },
    );

    const response = await api.reserve(event.eventId, { buyer: 'a', quantity: 2 }, 'hopeless-1');

    expect([response.status, response.body.error, response.headers['retry-after']]).toEqual([503, 'contention', '1']);
    const report = await audit(app, event.eventId);
    expect(report).toMatchObject({ remaining: 10, reservations: 0, violations: [] });
  });

  it('optimistic stops retrying when its time budget is spent, undoes its steps and answers 503', async () => {
    const db = createDocumentClient(ownConfig());
    let versionWrites = 0;
    // Another buyer always wrote first: every version-checked write fails, forever.
    beforeCalls(
      db,
      (call) =>
        call.operation === 'TransactWriteItems' && call.input.TransactItems.some((item: any) => item.Update?.ConditionExpression === '#version = :seen'),
      () => {
        versionWrites++;
        throw sdkError('TransactionCanceledException', { CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }] });
      },
    );
    const clock = new ManualClock();
    const app = testApp({
      db,
      clock,
      sleep: async (ms) => clock.advance(ms),
      random: () => 0.5,
      retryPolicy: { maxAttempts: 1_000, baseDelayMs: 50, maxDelayMs: 200 },
      config: { endpoint: endpoint(), holdBudgetMs: 1_000 },
    });
    const api = stampede(inProcessApi(app));
    const { body: event } = await api.createEvent({ name: 'out of time', capacity: 10, strategy: 'optimistic' });
    const started = clock.now();

    const response = await api.reserve(event.eventId, { buyer: 'a', quantity: 2 }, 'out-of-time');

    expect([response.status, response.body.error, response.headers['retry-after']]).toEqual([503, 'contention', '1']);
    expect(clock.now() - started).toBeLessThan(1_000);
    // The budget stopped it, not the attempt limit: backoffs of 25, 50, 100 ms, then 100 ms each.
    expect(versionWrites).toBe(12);
    const report = await audit(app, event.eventId);
    expect(report).toMatchObject({ remaining: 10, reservations: 0, violations: [] });
  });

  it.each(['sharded', 'conditional', 'pessimistic'] as const)('%s answers 503 throughput_exceeded when DynamoDB keeps throttling', async (strategy) => {
    const { db, api } = appWithFaults();
    const { body: event } = await api.createEvent({ name: 'throttled', capacity: 10, strategy });
    beforeCalls(
      db,
      (call) => /UpdateItem|TransactWriteItems/.test(call.operation),
      () => {
        throw sdkError('ProvisionedThroughputExceededException');
      },
    );

    const response = await api.reserve(event.eventId, { buyer: 'a', quantity: 1 });

    expect([response.status, response.body.error]).toEqual([503, 'throughput_exceeded']);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await api.getEvent(event.eventId)).body.available).toBe(10);
  });
});

describe('the event page while holds write its shards', () => {
  it('answers 503 contention with Retry-After, as its contract says, when every inventory read is cancelled by a conflict', async () => {
    const { db, api } = appWithFaults();
    let conflicting = true;
    beforeCalls(
      db,
      (call) => call.operation === 'TransactGetItems' && conflicting,
      (call) => {
        throw transactionConflict(call.input.TransactItems.length);
      },
    );
    const { body: event } = await api.createEvent({ name: 'busy page', capacity: 10, strategy: 'sharded', shards: 4 });

    const busy = await api.getEvent(event.eventId);

    expect([busy.status, busy.body.error]).toEqual([503, 'contention']);
    expect(Number(busy.headers['retry-after'])).toBeGreaterThan(0);
    const contract = (buildOpenApi() as any).paths['/events/{eventId}'].get.responses['503'];
    expect(JSON.stringify(contract)).toContain('"contention"');
    conflicting = false;
    expect((await api.getEvent(event.eventId)).body.available).toBe(10);
  });
});

describe('lost responses (the write happened, the answer did not arrive)', () => {
  it.each(['sharded', 'transactional', 'pessimistic'] as const)(
    '%s: a buyer gets the one hold that was made, whether its request finds it or a retry with the same Idempotency-Key does',
    async (strategy) => {
      const { db, app, api } = appWithFaults();
      const chance = seeded(3);
      let lostAnswers = 0;
      afterCalls(db, isTake, () => {
        if (chance() < 0.3) {
          lostAnswers++;
          throw sdkError('TimeoutError');
        }
      });
      const { body: event } = await api.createEvent({ name: `lost ${strategy}`, capacity: 100, strategy });

      // Each buyer retries on anything but a definite answer, as a client should after a 500
      // (a bounded number of times: 30% of answers lost, so 20 losses in a row never happen).
      const answers = await Promise.all(
        Array.from({ length: 150 }, async (_, i) => {
          let response = await buy(api, event.eventId, `b${i}`, 1, `${event.eventId}-${i}`);
          for (let retry = 1; response.status === 500 && retry < 20; retry++) response = await buy(api, event.eventId, `b${i}`, 1, `${event.eventId}-${i}`);
          return response;
        }),
      );

      const statuses = countBy(answers, (r) => r.status);
      expect(lostAnswers).toBeGreaterThan(10);
      // A request whose answer was lost looks its reservation up and answers with the hold (200: by
      // its key, it cannot tell its own attempt from a replay's), so no buyer needs a retry.
      expect([(statuses[201] ?? 0) + (statuses[200] ?? 0), statuses[409], statuses[500]]).toEqual([100, 50, undefined]);
      expect(statuses[200]).toBeGreaterThan(0);
      const report = await audit(app, event.eventId);
      expect(report.violations).toEqual([]);
      expect(report).toMatchObject({ sold: 100, reservations: 100, doubleHolds: 0 });
    },
  );

  it.each(['conditional', 'optimistic'] as const)(
    '%s: a lost response to the take is no lost ticket: the reservation says HELD and the buyer gets it',
    async (strategy) => {
      const { db, app, api } = appWithFaults();
      // The take and the step to HELD are one transaction: its answer is lost once, after it happened.
      const lost = loseFirstAnswer(db, isTake, () => sdkError('TimeoutError'));
      const { body: event } = await api.createEvent({ name: `lost take ${strategy}`, capacity: 5, strategy });

      const first = await api.reserve(event.eventId, { buyer: 'a', quantity: 2 }, `lost-take-${strategy}`);
      const retried = await api.reserve(event.eventId, { buyer: 'a', quantity: 2 }, `lost-take-${strategy}`);

      expect(lost()).toBe(1);
      expect([first.status, first.body.status, retried.status]).toEqual([201, 'HELD', 200]);
      expect(retried.body.reservationId).toBe(first.body.reservationId);
      const report = await audit(app, event.eventId);
      expect(report.violations).toEqual([]);
      expect(report).toMatchObject({ oversold: 0, lost: 0, held: 2, remaining: 3, pending: 0 });
    },
  );
});

describe('a hold that was made, its answer lost and the SDK retry of it throttled (no Idempotency-Key)', () => {
  it.each(['sharded', 'transactional', 'pessimistic'] as const)(
    '%s answers with the hold it made, not 409 sold_out from the read of its next attempt',
    async (strategy) => {
      const { db, app, api } = appWithFaults();
      // The transaction committed; its answer timed out and the SDK's retries of it were throttled.
      const lost = loseFirstAnswer(db, isTake, () => sdkError('ThrottlingException'));
      const { body: event } = await api.createEvent({ name: `throttled retry ${strategy}`, capacity: 1, strategy });

      const answer = await api.reserve(event.eventId, { buyer: 'a', quantity: 1 });

      expect(lost()).toBe(1);
      expect([answer.status, answer.body.status, answer.body.buyerId]).toEqual([201, 'HELD', 'a']);
      // The next buyer is refused as usual, and without a look for a hold of its own: nothing of its went unseen.
      let reservationReads = 0;
      beforeCalls(
        db,
        (call) => /Get/.test(call.operation) && JSON.stringify(call.input).includes('RESERVATION#'),
        () => void reservationReads++,
      );
      const refused = await api.reserve(event.eventId, { buyer: 'b', quantity: 1 });
      expect([refused.status, refused.body.error, reservationReads]).toEqual([409, 'sold_out', 0]);
      expect((await api.getReservation(answer.body, 'a')).body.status).toBe('HELD');
      const report = await audit(app, event.eventId);
      expect(report.violations).toEqual([]);
      expect(report).toMatchObject({ held: 1, remaining: 0, reservations: 1 });
    },
  );
});

describe('a lost answer to the claim, retried by the SDK', () => {
  it.each(['conditional', 'optimistic'] as const)(
    "%s: the retry refused by the attempt's own claim goes on with it, instead of waiting for itself and answering 503",
    async (strategy) => {
      const { db, app, api } = appWithFaults();
      // The claim (PutItem of the PENDING reservation) happened, its answer timed out, and the
      // SDK's retry of the same put found the item there: what the strategy sees is the retry's
      // ConditionalCheckFailedException, for a claim that is its own.
      const lost = loseFirstAnswerToItsRetry(db, (call) => call.operation === 'PutItem' && call.input.Item?.status === 'PENDING');
      const { body: event } = await api.createEvent({ name: `lost claim ${strategy}`, capacity: 5, strategy });

      const answer = await api.reserve(event.eventId, { buyer: 'a', quantity: 2 }, `lost-claim-${strategy}`);

      expect(lost()).toBe(1);
      expect([answer.status, answer.body.status]).toEqual([201, 'HELD']);
      const report = await audit(app, event.eventId);
      expect(report.violations).toEqual([]);
      expect(report).toMatchObject({ held: 2, remaining: 3, pending: 0, reservations: 1 });
    },
  );
});

describe('a lost answer to creating an event, retried by the SDK', () => {
  it('answers 201 with the event that was made, not a 500', async () => {
    const { db, api } = appWithFaults();
    const lost = loseFirstAnswerToItsRetry(db, (call) => call.operation === 'PutItem' && call.input.Item?.sk === 'EVENT');

    const created = await api.createEvent({ name: 'lost create', capacity: 7 });

    expect([lost(), created.status]).toEqual([1, 201]);
    expect((await api.getEvent(created.body.eventId)).body).toMatchObject({ name: 'lost create', capacity: 7, available: 7 });
  });
});

describe('queued: conflicts and lost responses at the door and in the consumer', () => {
  it('sells exactly the capacity when a quarter of admissions and chunk transactions are cancelled', async () => {
    const db = createDocumentClient(ownConfig());
    const chance = seeded(5);
    let cancelled = 0;
    beforeCalls(
      db,
      (call) => call.operation === 'TransactWriteItems',
      (call) => {
        if (chance() < 0.25) {
          cancelled++;
          throw transactionConflict(call.input.TransactItems.length);
        }
      },
    );
    // The door and the consumer share the faulty client: admissions (reservation, tally, log entry)
    // and the consumer's chunks and rejections are all cancelled a quarter of the time.
    const app = await appFor('queued', { db, config: { endpoint: endpoint() }, retryPolicy: fastRetries });
    const api = stampede(inProcessApi(app));
    const { body: event } = await api.createEvent({ name: 'conflicts queued', capacity: 100, strategy: 'queued', shards: 4 });

    const responses = await Promise.all(Array.from({ length: 300 }, (_, i) => buy(api, event.eventId, `b${i}`, 1, `${event.eventId}-${i}`)));

    expect(countBy(responses, (r) => r.status)).toEqual({ 201: 100, 409: 200 });
    expect(cancelled).toBeGreaterThan(50);
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ sold: 100, queued: 0 });
  });

  it('turns a lost answer at the door into the one request that was written: the retry replays it', async () => {
    const db = createDocumentClient(ownConfig());
    const chance = seeded(9);
    // The admission (its transaction writes the log entry) happened; its answer is lost 30% of the time.
    afterCalls(
      db,
      (call) => call.operation === 'TransactWriteItems' && JSON.stringify(call.input).includes('"QueueEntry"'),
      () => {
        if (chance() < 0.3) throw sdkError('TimeoutError');
      },
    );
    const app = await appFor('queued', { db, config: { endpoint: endpoint() }, retryPolicy: fastRetries });
    const api = stampede(inProcessApi(app));
    const { body: event } = await api.createEvent({ name: 'lost queued', capacity: 50, strategy: 'queued', shards: 4 });

    const answers = await Promise.all(
      Array.from({ length: 80 }, async (_, i) => {
        let response = await buy(api, event.eventId, `b${i}`, 1, `${event.eventId}-${i}`);
        for (let retry = 1; response.status === 500 && retry < 20; retry++) response = await buy(api, event.eventId, `b${i}`, 1, `${event.eventId}-${i}`);
        return response;
      }),
    );

    // A replay answers 200 with the request as it stands: HELD, or REJECTED if its turn found none left.
    const outcomes = countBy(answers, (r) => (r.status === 409 || r.body.status === 'REJECTED' ? 'refused' : `${r.status} ${r.body.status}`));
    expect((outcomes['201 HELD'] ?? 0) + (outcomes['200 HELD'] ?? 0)).toBe(50);
    expect(outcomes.refused).toBe(30);
    expect(Object.keys(outcomes).filter((outcome) => !['201 HELD', '200 HELD', 'refused'].includes(outcome))).toEqual([]); // no 5xx left
    expect(countBy(answers, (r) => r.status)[200]).toBeGreaterThan(0); // some were only learned of through the replay
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ sold: 50, doubleHolds: 0, queued: 0 });
  });
});

// Step 2 of a stepwise hold: the buyer's tally and the reservation's stage, one transaction without the inventory.
const isTallyStep = (call: { operation: string; input: unknown }) =>
  call.operation === 'TransactWriteItems' && JSON.stringify(call.input).includes('"TALLY"') && !touchesInventory(call.input);

describe('a lost answer to the step that counts tickets against the buyer', () => {
  it.each([
    ['conditional', 'ThrottlingException'],
    ['conditional', 'TimeoutError'],
    ['optimistic', 'ThrottlingException'],
    ['optimistic', 'TimeoutError'],
  ] as const)('%s, lost as %s: the hold goes on from its own step instead of answering 503 and leaving it half-made', async (strategy, errorName) => {
    const { db, app, api } = appWithFaults();
    // The step happened; the caller got the error instead (a throttle is retried by a new send, which finds the stage moved).
    const lost = loseFirstAnswer(db, isTallyStep, () => sdkError(errorName));
    const { body: event } = await api.createEvent({ name: `lost tally ${strategy}`, capacity: 5, strategy, maxPerBuyer: 3 });

    const answer = await api.reserve(event.eventId, { buyer: 'a', quantity: 2 });

    expect(lost()).toBe(1);
    expect([answer.status, answer.body.status]).toEqual([201, 'HELD']);
    // The tally counted those 2 once: 2 more would pass the limit of 3, 1 more does not.
    const overLimit = await api.reserve(event.eventId, { buyer: 'a', quantity: 2 });
    expect([overLimit.status, overLimit.body.error]).toEqual([409, 'buyer_limit_exceeded']);
    expect((await api.reserve(event.eventId, { buyer: 'a', quantity: 1 })).status).toBe(201);
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ held: 3, remaining: 2, pending: 0, reservations: 2 });
  });
});

describe('a refusal whose undo is throttled past its retries', () => {
  it.each(['conditional', 'optimistic'] as const)(
    '%s still answers 409 buyer_limit_exceeded (no ticket was taken), not 500; its claim waits for the sweeper',
    async (strategy) => {
      const { db, app, api } = appWithFaults();
      const { body: event } = await api.createEvent({ name: `undo throttled ${strategy}`, capacity: 5, strategy, maxPerBuyer: 2 });
      expect((await api.reserve(event.eventId, { buyer: 'a', quantity: 2 })).status).toBe(201);
      let undoAttempts = 0;
      beforeCalls(
        db,
        (call) => call.operation === 'DeleteItem' && JSON.stringify(call.input).includes('RESERVATION#'),
        () => {
          undoAttempts++;
          throw sdkError('ThrottlingException');
        },
      );

      const refused = await api.reserve(event.eventId, { buyer: 'a', quantity: 1 });

      expect(undoAttempts).toBeGreaterThan(1); // retried, then given up on
      expect([refused.status, refused.body.error]).toEqual([409, 'buyer_limit_exceeded']);
      expect((await api.getEvent(event.eventId)).body.available).toBe(3);
      const report = await audit(app, event.eventId);
      expect(report.violations).toEqual([]);
      // The claim left behind holds nothing: PENDING at stage `claimed`, for the sweeper once it is due.
      expect(report).toMatchObject({ held: 2, remaining: 3, pending: 0, pendingNotYetDue: 1 });
    },
  );
});

describe('a take whose answer was lost while a replay of its key confirmed the hold', () => {
  it.each(['conditional', 'optimistic'] as const)(
    '%s answers with the reservation it made (now CONFIRMED), not 500 from an undo that found the stage moved',
    async (strategy) => {
      const { db, app, api } = appWithFaults();
      const { body: event } = await api.createEvent({ name: `confirmed meanwhile ${strategy}`, capacity: 5, strategy });
      const key = `confirmed-meanwhile-${strategy}`;
      let replay: Awaited<ReturnType<typeof api.reserve>> | undefined;
      // The take lands; before its caller hears of it, the buyer's retry with the key finds the hold and confirms it.
      afterFirstCall(db, isTake, async () => {
        replay = await api.reserve(event.eventId, { buyer: 'a', quantity: 2 }, key);
        await api.confirm(replay.body as { reservationId: string; buyerId: string });
        throw sdkError('TimeoutError');
      });

      const first = await api.reserve(event.eventId, { buyer: 'a', quantity: 2 }, key);

      expect([replay?.status, replay?.body.status]).toEqual([200, 'HELD']);
      expect([first.status, first.body.status, first.body.reservationId]).toEqual([201, 'CONFIRMED', replay?.body.reservationId]);
      const report = await audit(app, event.eventId);
      expect(report.violations).toEqual([]);
      expect(report).toMatchObject({ confirmed: 2, held: 0, remaining: 3, pending: 0, reservations: 1 });
    },
  );
});

describe('a transaction still in flight under the same token (TransactionInProgressException)', () => {
  it('is retried like a throttle, and past the retries answered 503 with Retry-After, not 500', async () => {
    const { db, api } = appWithFaults();
    let inProgress = 0;
    let busy = true;
    beforeCalls(
      db,
      (call) => busy && call.operation === 'TransactWriteItems' && JSON.stringify(call.input).includes('"RELEASED"'),
      () => {
        inProgress++;
        throw sdkError('TransactionInProgressException');
      },
    );
    const { body: event } = await api.createEvent({ name: 'release in progress', capacity: 5 });
    const { body: held } = await api.reserve(event.eventId, { buyer: 'a', quantity: 2 });

    const busyAnswer = await api.release(held);
    expect([busyAnswer.status, busyAnswer.body.error, inProgress]).toEqual([503, 'throughput_exceeded', fastRetries.maxAttempts]);
    expect(busyAnswer.headers['retry-after']).toMatch(/^\d+$/);
    expect((await api.getReservation(held)).body.status).toBe('HELD');

    busy = false;
    expect((await api.release(held)).body.status).toBe('RELEASED');
    expect((await api.getEvent(event.eventId)).body.available).toBe(5);
  });
});

describe('a take still in flight when its call gave up, landing between the read and the undo', () => {
  it.each(['conditional', 'optimistic'] as const)('%s answers with the hold that landed, not the error of the call', async (strategy) => {
    const { db, app, api } = appWithFaults();
    const other = createDocumentClient(ownConfig());
    let inFlight: Record<string, any> | undefined;
    let timedOut = 0;
    // The take's call gives up (unsent here); the take itself is sent later, just before the undo, as a slow request lands.
    beforeCalls(
      db,
      (call) => timedOut === 0 && call.operation === 'TransactWriteItems' && touchesInventory(call.input),
      (call) => {
        timedOut++;
        inFlight = call.input;
        throw sdkError('TimeoutError');
      },
    );
    beforeCalls(
      db,
      (call) => inFlight !== undefined && call.operation === 'TransactWriteItems' && JSON.stringify(call.input).includes('"Delete"'),
      async () => {
        const input = inFlight!;
        inFlight = undefined;
        await other.send(new TransactWriteCommand(input as ConstructorParameters<typeof TransactWriteCommand>[0]));
      },
    );
    const { body: event } = await api.createEvent({ name: `late take ${strategy}`, capacity: 5, strategy });

    const answer = await api.reserve(event.eventId, { buyer: 'a', quantity: 2 });

    expect([timedOut, inFlight]).toEqual([1, undefined]);
    expect([answer.status, answer.body.status]).toEqual([201, 'HELD']);
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ held: 2, remaining: 3, pending: 0, reservations: 1 });
  });
});

describe('a hold that was made and its answer lost for good (a timeout, no Idempotency-Key)', () => {
  it.each(['sharded', 'transactional', 'pessimistic'] as const)(
    '%s looks its own reservation up and answers 201 with it, not 500 for a hold its buyer could never find',
    async (strategy) => {
      const { db, app, api } = appWithFaults();
      const lost = loseFirstAnswer(db, isTake, () => sdkError('TimeoutError'));
      const { body: event } = await api.createEvent({ name: `timed out ${strategy}`, capacity: 3, strategy });

      const answer = await api.reserve(event.eventId, { buyer: 'a', quantity: 2 });

      expect(lost()).toBe(1);
      expect([answer.status, answer.body.status, answer.body.buyerId]).toEqual([201, 'HELD', 'a']);
      expect((await api.getReservation(answer.body)).body.status).toBe('HELD');
      const report = await audit(app, event.eventId);
      expect(report.violations).toEqual([]);
      expect(report).toMatchObject({ held: 2, remaining: 1, reservations: 1 });
    },
  );

  it('still answers the original error when its hold was not made', async () => {
    const { db, app, api } = appWithFaults();
    let timedOut = 0;
    beforeCalls(
      db,
      (call) => timedOut === 0 && call.operation === 'TransactWriteItems' && touchesInventory(call.input),
      () => {
        timedOut++;
        throw sdkError('TimeoutError'); // unsent: nothing was written
      },
    );
    const { body: event } = await api.createEvent({ name: 'timed out, unsent', capacity: 3 });

    const answer = await api.reserve(event.eventId, { buyer: 'a', quantity: 1 });

    expect([timedOut, answer.status, answer.body.error]).toEqual([1, 500, 'internal_error']);
    expect((await audit(app, event.eventId)).violations).toEqual([]);
    expect((await api.getEvent(event.eventId)).body.available).toBe(3);
  });
});
