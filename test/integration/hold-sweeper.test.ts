import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, inject, it, onTestFinished } from 'vitest';
import { loadConfig, type StampedeConfig } from '../../functions/config';
import { createDocumentClient } from '../../functions/data/dynamodb-client';
import { allSweepShards } from '../../functions/data/sweep-index';
import { sweepQuietMs } from '../../functions/data/sweep-repository';
import { ManualClock } from '../../functions/domain/clock';
import { minHoldSeconds } from '../../functions/domain/model';
import { createHandler as createSweepHandler } from '../../functions/handlers/sweep-holds';
import type { InMemorySweepStats } from '../../functions/observability/sweep-metrics';
import { ensureLocalTable } from '../../local/local-table';
import { inProcessApi, stampede } from '../support/api';
import { audit } from '../support/audit';
import { afterCalls, barrier, beforeCalls, type CallInfo, callsInFlight, sdkError } from '../support/faults';
import { startDecider } from '../support/queued';
import { testApp as appOnTestTable, noSleep, type TestAppOptions } from '../support/test-app';

// A sweeper settles everything due in its table: every test gets a table of its own, so what it
// sweeps is exactly what it made.
let config: StampedeConfig;
beforeEach(async () => {
  config = { ...loadConfig(), tableName: `stampede-sweep-${randomUUID()}` };
  await ensureLocalTable(inject('dynamoDbEndpoint'), config.tableName);
});
const testApp = (options: TestAppOptions = {}) => appOnTestTable({ ...options, config: { ...config, ...options.config } });
const client = () => createDocumentClient(config);

const strategies = ['sharded', 'transactional', 'conditional', 'optimistic', 'pessimistic'] as const;
const holdSeconds = 60;
const isExpiry = (call: CallInfo) => call.operation === 'TransactWriteItems' && JSON.stringify(call.input).includes('"EXPIRED"');

/** An event with holds made at `clock`, an app to buy with and the apps that sweep (all sharing one clock unless given). */
async function sale(strategy: (typeof strategies)[number], clock = new ManualClock(Date.UTC(2026, 11, 1, 12))) {
  const app = testApp({ clock });
  const api = stampede(inProcessApi(app));
  const { body: event } = await api.createEvent({ name: `sweep ${strategy}`, capacity: 20, strategy, holdSeconds, maxPerBuyer: 4 });
  const hold = async (buyer: string, quantity: number) => {
    const response = await api.reserve(event.eventId, { buyer, quantity });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as { reservationId: string; buyerId: string; quantity: number };
  };
  const available = async () => (await api.getEvent(event.eventId)).body.available as number;
  return { app, api, clock, event, hold, available };
}

describe('sweep lag', () => {
  it('runs from the hold’s expiry until its tickets are back, the sweeper’s own read and return included', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 12));
    const { hold, available } = await sale('sharded', clock);
    await hold('wanda', 3);
    clock.advance(holdSeconds * 1000 + 2_000); // swept 2 s after its expiry
    const db = client();
    beforeCalls(db, isExpiry, () => clock.advance(500)); // and the return takes half a second
    const sweeper = testApp({ db, clock }).sweeper;

    const report = await sweeper.sweep();

    expect(report).toMatchObject({ expired: 1, ticketsReturned: 3 });
    expect(report.lagsMs).toEqual([2_500]);
    expect(await available()).toBe(20);
  });
});

describe.each(strategies)('%s: expired holds come back by themselves', (strategy) => {
  it("returns an untouched expired hold's tickets to their shards and its count to the buyer's tally, exactly once", async () => {
    const { app, api, clock, event, hold, available } = await sale(strategy);
    const walkedAway = await hold('wanda', 3);
    const confirmed = await hold('carl', 2);
    await api.confirm(confirmed);
    expect(await available()).toBe(15);

    clock.advance(holdSeconds * 1000 - 1);
    expect((await app.sweeper.sweep()).expired).toBe(0); // not due yet
    clock.advance(1);
    const report = await app.sweeper.sweep();
    expect(report).toMatchObject({ expired: 1, ticketsReturned: 3, repaired: 0 });
    expect(report.lagsMs).toEqual([0]);

    expect(await available()).toBe(18);
    expect((await api.getReservation(walkedAway)).body.status).toBe('EXPIRED');
    expect((await api.getReservation(confirmed)).body.status).toBe('CONFIRMED');
    // Wanda's allowance came back with her tickets: 4 more are hers to hold.
    await hold('wanda', 4);
    expect(await app.sweeper.sweep()).toMatchObject({ expired: 0, ticketsReturned: 0, failed: 0 });
    const books = await audit(app, event.eventId);
    expect(books.violations).toEqual([]);
    expect(books).toMatchObject({ held: 4, confirmed: 2, remaining: 14, heldExpired: 0 });
  });
});

/** A sweeper on a client of its own that counts its index queries, and the quiet time it skips shards for. */
function countingSweeper(clock: ManualClock) {
  const db = client();
  let queries = 0;
  beforeCalls(
    db,
    (call) => call.operation === 'Query',
    () => void queries++,
  );
  const { sweeper } = testApp({ db, clock });
  return {
    quietMs: sweepQuietMs({ ...loadConfig(), minHoldMs: minHoldSeconds * 1000 }),
    /** One sweep: what it settled, and how many shards it queried. */
    async sweep() {
      const before = queries;
      const report = await sweeper.sweep();
      return { ...report, queries: queries - before };
    },
  };
}

describe('queued: expired holds come back by themselves', () => {
  it("returns an expired hold's tickets to a return bin and its count to the tally, exactly once with two sweeps at once", async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 12));
    const app = testApp({ clock, config: { queueWaitMs: 60_000 } });
    const decider = await startDecider(app);
    onTestFinished(() => decider.stop());
    const api = stampede(inProcessApi(app));
    const { body: event } = await api.createEvent({ name: 'sweep queued', capacity: 20, strategy: 'queued', shards: 1, holdSeconds, maxPerBuyer: 4 });
    const hold = async (buyer: string, quantity: number) => {
      const response = await api.reserve(event.eventId, { buyer, quantity });
      expect([response.status, response.body.status]).toEqual([201, 'HELD']);
      return response.body as { reservationId: string; buyerId: string };
    };
    const available = async () => (await api.getEvent(event.eventId)).body.available as number;
    const walkedAway = await hold('wanda', 3);
    await api.confirm(await hold('carl', 2));
    expect(await available()).toBe(15);

    clock.advance(holdSeconds * 1000);
    const [first, second] = await Promise.all([app.sweeper.sweep(), testApp({ clock }).sweeper.sweep()]);
    expect([first.expired + second.expired, first.ticketsReturned + second.ticketsReturned]).toEqual([1, 3]);

    expect(await available()).toBe(18);
    expect((await api.getReservation(walkedAway)).body.status).toBe('EXPIRED');
    await hold('wanda', 4); // her allowance came back with her tickets
    const books = await audit(app, event.eventId);
    expect(books.violations).toEqual([]);
    expect(books).toMatchObject({ held: 4, confirmed: 2, remaining: 14, heldExpired: 0 });
  });
});

describe('the sweeper', () => {
  it('finds what is due through its index, a Query per shard, never a Scan', async () => {
    const db = client();
    const calls: CallInfo[] = [];
    beforeCalls(
      db,
      () => true,
      (call) => void calls.push(call),
    );
    const clock = new ManualClock(Date.UTC(2026, 11, 2));
    const { hold } = await sale('sharded', clock);
    await hold('ann', 1);
    clock.advance(holdSeconds * 1000);
    const sweeper = testApp({ db, clock }).sweeper;

    expect((await sweeper.sweep()).expired).toBe(1);

    const operations = new Set(calls.map((call) => call.operation));
    expect(operations.has('Scan')).toBe(false);
    const queries = calls.filter((call) => call.operation === 'Query');
    expect(queries.length).toBe(allSweepShards.length);
    expect(new Set(queries.map((call) => call.input.IndexName))).toEqual(new Set(['sweep']));
  });

  it('skips a shard with nothing due until its soonest entry or the quiet time, and still finds every hold on time', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6));
    const { hold, available } = await sale('sharded', clock);
    const { sweep, quietMs } = countingSweeper(clock);
    expect(quietMs).toBeGreaterThan(3_000); // the defaults let a sweeper every 3 s skip

    await hold('ann', 1); // due at +60 s
    expect(await sweep()).toMatchObject({ expired: 0, queries: allSweepShards.length }); // the first sweep looks everywhere
    clock.advance(3_000);
    expect(await sweep()).toMatchObject({ queries: 0 }); // nothing can have come due since
    // A hold made now, on a shard the sweeper will not look at for a while, comes due after that.
    await hold('bob', 2); // due at +63 s
    clock.advance(quietMs);
    expect(await sweep()).toMatchObject({ expired: 0, queries: allSweepShards.length }); // every shard again, its quiet time over
    clock.advance(60_000 - 3_000 - quietMs); // Ann's hold expires
    expect(await sweep()).toMatchObject({ expired: 1 });
    clock.advance(3_000); // Bob's
    expect(await sweep()).toMatchObject({ expired: 1 });
    expect(await available()).toBe(20);
  });

  it('spreads the next looks at quiet shards over the quiet time, so they do not all come back in one sweep', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6));
    const { sweep, quietMs } = countingSweeper(clock);
    await sweep(); // every shard, all quiet
    const looks: number[] = [];
    for (let step = 1; step <= 4; step++) {
      clock.advance(quietMs / 4);
      looks.push((await sweep()).queries);
    }
    // None before half the quiet time, every shard once by the end of it, spread in between.
    expect(looks.slice(0, 2)).toEqual([0, 0]);
    expect(looks[2]).toBeGreaterThan(0);
    expect(looks[3]).toBeGreaterThan(0);
    expect(looks.reduce((sum, n) => sum + n, 0)).toBe(allSweepShards.length);
    expect(Math.max(...looks)).toBeLessThan(allSweepShards.length * 0.75);
  });

  it('settles at most 16 due holds at once, and takes a freed slot at once instead of waiting for the slowest', async () => {
    const { app, clock, event, hold, available } = await sale('sharded');
    const buyers = Array.from({ length: 20 }, (_, n) => `buyer-${n}`);
    for (const buyer of buyers) await hold(buyer, 1);
    clock.advance(holdSeconds * 1000);
    const db = client();
    let inFlight = 0;
    let mostInFlight = 0;
    let written = 0;
    // Every expiry waits until 16 are in flight (a 17th would mean the bound is not kept) ...
    const sixteenInFlight = barrier(16);
    // ... and the first one until all the others are written: a sweep that settled in batches,
    // each waiting for its slowest, would never get to the last 4 and wait here forever.
    let othersWritten!: () => void;
    const othersDone = new Promise<void>((resolve) => {
      othersWritten = resolve;
    });
    let first = true;
    beforeCalls(db, isExpiry, async () => {
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      const isFirst = first;
      first = false;
      await sixteenInFlight();
      if (isFirst) await othersDone;
    });
    afterCalls(db, isExpiry, () => {
      inFlight--;
      if (++written === buyers.length - 1) othersWritten();
    });

    const report = await testApp({ db, clock }).sweeper.sweep();

    expect(report).toMatchObject({ due: 20, expired: 20, ticketsReturned: 20 });
    expect(mostInFlight).toBe(16);
    expect(await available()).toBe(20);
    expect((await audit(app, event.eventId)).violations).toEqual([]);
  });

  it('returns every ticket exactly once when two sweeps run at once', async () => {
    const { app, clock, event, hold, available } = await sale('sharded');
    for (const buyer of ['a', 'b', 'c', 'd', 'e']) await hold(buyer, 2);
    clock.advance(holdSeconds * 1000);
    // Both read every due reservation before either writes: each expiry then races the other sweep's.
    const bothHaveRead = barrier(2);
    const sweepers = Array.from({ length: 2 }, () => {
      const db = client();
      let first = true;
      beforeCalls(db, isExpiry, async () => {
        if (first) {
          first = false;
          await bothHaveRead();
        }
      });
      return testApp({ db, clock }).sweeper;
    });

    const reports = await Promise.all(sweepers.map((sweeper) => sweeper.sweep()));

    expect(reports[0]!.expired + reports[1]!.expired).toBe(5);
    expect(reports[0]!.ticketsReturned + reports[1]!.ticketsReturned).toBe(10);
    expect(await available()).toBe(20);
    expect((await audit(app, event.eventId)).violations).toEqual([]);
  });

  it('loses nothing when it crashes half-way: what it did is reported, the next sweep finishes the job, and nothing comes back twice', async () => {
    const { app, clock, event, hold, available } = await sale('conditional');
    for (const buyer of ['a', 'b', 'c', 'd']) await hold(buyer, 3);
    clock.advance(holdSeconds * 1000 + 5_000);
    const db = client();
    let expiriesSent = 0;
    let expiriesWritten = 0;
    // The process dies after sending its second expiry: every later call fails, and the two it
    // had sent still land.
    const sent = callsInFlight(db);
    beforeCalls(
      db,
      () => true,
      (call) => {
        if (expiriesSent >= 2) throw sdkError('ProcessKilled');
        if (isExpiry(call)) expiriesSent++;
      },
    );
    afterCalls(db, isExpiry, () => {
      expiriesWritten++;
    });

    // Through the handler the schedule invokes: the invocation fails (the function's error
    // alarm), after recording the two holds it did return in its metrics.
    const crashed = testApp({ db, clock });
    await expect(createSweepHandler(crashed)({} as never)).rejects.toThrow(/could not settle/);
    await sent.settled();
    expect((crashed.sweepMetrics as InMemorySweepStats).snapshot()).toMatchObject({ sweeps: 1, expired: 2, ticketsReturned: 6 });
    // Its log says why (on AWS the thrown error's cause is not printed).
    expect(crashed.logged).toContainEqual([
      'error',
      expect.stringMatching(/could not settle/),
      expect.objectContaining({ failed: expect.any(Number), error: expect.objectContaining({ name: 'ProcessKilled' }) }),
    ]);
    expect(expiriesWritten).toBe(2);
    expect(await available()).toBe(8 + 6);

    const after = await app.sweeper.sweep();
    expect(after).toMatchObject({ expired: 2, ticketsReturned: 6 });
    expect(after.lagsMs).toEqual([5_000, 5_000]);
    expect(await available()).toBe(20);
    expect(await app.sweeper.sweep()).toMatchObject({ expired: 0, failed: 0 });
    expect((await audit(app, event.eventId)).violations).toEqual([]);
  });

  it.each(['confirm', 'release'] as const)('lets exactly one of a %s and the sweep win at the expiry boundary, whichever writes first', async (action) => {
    for (const order of ['buyer', 'sweeper'] as const) {
      const clock = new ManualClock(Date.UTC(2026, 11, 3));
      const { app, event, hold, available } = await sale('sharded', clock);
      const held = await hold('bea', 2);
      // The buyer acts in the last millisecond of the hold, the sweeper in the first one after it.
      const buyerClock = new ManualClock(clock.now() + holdSeconds * 1000 - 1);
      const sweeperClock = new ManualClock(clock.now() + holdSeconds * 1000);
      const [buyerDb, sweeperDb] = [client(), client()];
      // Both reach their write having seen the hold HELD; then `order` writes first, the other after it.
      const bothAtTheirWrite = barrier(2);
      let firstDone!: () => void;
      const firstWritten = new Promise<void>((resolve) => {
        firstDone = resolve;
      });
      const [first, second] = order === 'buyer' ? [buyerDb, sweeperDb] : [sweeperDb, buyerDb];
      const isWrite = (call: CallInfo) => /^(UpdateItem|TransactWriteItems)$/.test(call.operation);
      beforeCalls(first, isWrite, bothAtTheirWrite);
      afterCalls(first, isWrite, () => firstDone());
      beforeCalls(second, isWrite, async () => {
        await bothAtTheirWrite();
        await firstWritten;
      });
      const buyer = stampede(inProcessApi(testApp({ db: buyerDb, clock: buyerClock })));
      const sweeper = testApp({ db: sweeperDb, clock: sweeperClock }).sweeper;

      const [answer, report] = await Promise.all([action === 'confirm' ? buyer.confirm(held) : buyer.release(held), sweeper.sweep()]);

      if (order === 'buyer') {
        expect([answer.status, report.expired, report.failed], `${action} first`).toEqual([200, 0, 0]);
      } else {
        expect([answer.status, answer.body.error, report.expired, report.failed], `sweep first, then ${action}`).toEqual([410, 'hold_expired', 1, 0]);
      }
      // Tickets came back exactly once, unless a confirm won and keeps them.
      expect(await available()).toBe(order === 'buyer' && action === 'confirm' ? 18 : 20);
      expect((await audit(app, event.eventId)).violations).toEqual([]);
    }
  });
});

describe.each(['conditional', 'optimistic'] as const)('%s: a hold interrupted between its steps', (strategy) => {
  it.each([
    ['after it claimed the reservation', 1],
    ['after it counted the tickets against the buyer', 2],
  ] as const)('%s is undone by the sweeper exactly once, and a retry of its key gets a definite answer', async (_when, stepsDone) => {
    const clock = new ManualClock(Date.UTC(2026, 11, 4));
    const { app, event, available } = await sale(strategy, clock);
    const db = client();
    let writes = 0;
    // The process dies right after its `stepsDone`-th write: no later call (no undo) reaches DynamoDB.
    beforeCalls(
      db,
      () => true,
      () => {
        if (writes >= stepsDone) throw sdkError('ProcessKilled');
      },
    );
    afterCalls(
      db,
      (call) => /^(PutItem|UpdateItem|DeleteItem|TransactWriteItems)$/.test(call.operation),
      () => {
        writes++;
      },
    );
    const dying = stampede(inProcessApi(testApp({ db, clock })));
    const api = stampede(inProcessApi(app));
    const key = `interrupted-${strategy}-${stepsDone}`;

    expect((await dying.reserve(event.eventId, { buyer: 'ivan', quantity: 3 }, key)).status).toBe(500);
    expect(await available()).toBe(20); // an interrupted hold never holds tickets
    const before = await audit(app, event.eventId);
    expect(before).toMatchObject({ pending: 0, reservations: 1 }); // PENDING, not yet due for repair
    // Meanwhile a retry of the key waits for the first attempt, then asks to come back later.
    const impatient = stampede(inProcessApi(testApp({ clock, sleep: noSleep })));
    expect((await impatient.reserve(event.eventId, { buyer: 'ivan', quantity: 3 }, key)).status).toBe(503);

    clock.advance(app.config.holdBudgetMs + app.config.repairMarginMs);
    const [first, second] = await Promise.all([app.sweeper.sweep(), testApp({ clock }).sweeper.sweep()]);
    expect(first.repaired + second.repaired).toBe(1);

    const books = await audit(app, event.eventId);
    expect(books.violations).toEqual([]);
    expect(books).toMatchObject({ reservations: 0, pending: 0, held: 0, remaining: 20 });
    // The key is free again: the retry is a new attempt, and Ivan's allowance is whole (4).
    const retried = await api.reserve(event.eventId, { buyer: 'ivan', quantity: 3 }, key);
    expect([retried.status, retried.body.status]).toEqual([201, 'HELD']);
    expect((await api.reserve(event.eventId, { buyer: 'ivan', quantity: 1 })).status).toBe(201);
    expect((await audit(app, event.eventId)).violations).toEqual([]);
  });

  it("never lets a late step of a repaired attempt act on a later request's claim of the same key", async () => {
    // The reservation id comes from the buyer and the key, not the event: once the sweeper undid
    // Ivan's stalled attempt on one event, his next request with the key (for another event) claims
    // the same id. The stalled attempt then wakes up with its steps still to run.
    const clock = new ManualClock(Date.UTC(2026, 11, 4));
    const { app, api, event: first } = await sale(strategy, clock);
    const { body: second } = await api.createEvent({ name: `second ${strategy}`, capacity: 20, strategy, holdSeconds, maxPerBuyer: 4 });
    const key = `reused-${strategy}`;

    const stale = stalledBeforeWrite(2, clock);
    const staleAnswer = stale.api.reserve(first.eventId, { buyer: 'ivan', quantity: 2 }, key);
    await stale.reached(); // claimed, about to count 2 tickets against Ivan on the first event
    clock.advance(app.config.holdBudgetMs + app.config.repairMarginMs);
    expect((await app.sweeper.sweep()).repaired).toBe(1);

    const fresh = stalledBeforeWrite(2, clock);
    const freshAnswer = fresh.api.reserve(second.eventId, { buyer: 'ivan', quantity: 1 }, key);
    await fresh.reached(); // the key's id claimed again, for 1 ticket of the second event

    await stale.resume();
    expect((await staleAnswer).status).toBe(503); // its claim is gone: nothing counted, nothing taken
    await fresh.resume();
    const answer = await freshAnswer;
    expect([answer.status, answer.body.status, answer.body.eventId, answer.body.quantity]).toEqual([201, 'HELD', second.eventId, 1]);

    const [firstBooks, secondBooks] = [await audit(app, first.eventId), await audit(app, second.eventId)];
    expect([firstBooks.violations, secondBooks.violations]).toEqual([[], []]);
    expect(firstBooks).toMatchObject({ reservations: 0, held: 0, remaining: 20 });
    expect(secondBooks).toMatchObject({ reservations: 1, held: 1, remaining: 19 });
    // Ivan's allowance on the first event is whole: nothing of the stale attempt was counted there.
    expect((await api.reserve(first.eventId, { buyer: 'ivan', quantity: 4 })).status).toBe(201);
  });

  it("answers a repaired attempt whose take fails with the later request's hold, as a replay, never as its own", async () => {
    // Ivan's attempt stalls just before its take; the sweeper undoes it; his retry with the same
    // key and body makes the hold. When the stalled take fails, the reservation it finds HELD is
    // the retry's: it answers 200 with it, as any replay of the key does, not 201 "created".
    const clock = new ManualClock(Date.UTC(2026, 11, 6));
    const { app, api, event } = await sale(strategy, clock);
    const key = `replayed-${strategy}`;
    const stale = stalledBeforeWrite(3, clock);
    const staleAnswer = stale.api.reserve(event.eventId, { buyer: 'ivan', quantity: 2 }, key);
    await stale.reached(); // claimed and counted, about to take the tickets
    clock.advance(app.config.holdBudgetMs + app.config.repairMarginMs);
    expect((await app.sweeper.sweep()).repaired).toBe(1);
    const retried = await api.reserve(event.eventId, { buyer: 'ivan', quantity: 2 }, key);
    expect([retried.status, retried.body.status]).toEqual([201, 'HELD']);

    await stale.resume();
    const answer = await staleAnswer;
    expect([answer.status, answer.body.reservationId, answer.body.status]).toEqual([200, retried.body.reservationId, 'HELD']);
    const books = await audit(app, event.eventId);
    expect(books.violations).toEqual([]);
    expect(books).toMatchObject({ reservations: 1, held: 2, remaining: 18 });
  });
});

/** An API process on a client of its own that stops before its `nth` write until the test resumes it. */
function stalledBeforeWrite(nth: number, clock: ManualClock) {
  const db = client();
  let writes = 0;
  const reached = barrier(2);
  const resume = barrier(2);
  beforeCalls(
    db,
    (call) => /^(PutItem|UpdateItem|DeleteItem|TransactWriteItems)$/.test(call.operation),
    async () => {
      if (++writes !== nth) return;
      await reached();
      await resume();
    },
  );
  return { api: stampede(inProcessApi(testApp({ db, clock }))), reached, resume };
}

describe('sold-out answers and the event page with bounded staleness', () => {
  it('may refuse from a read up to the bound old, and sell a returned ticket to anyone who comes after the bound', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 5));
    const app = testApp({ clock, config: { soldOutStalenessMs: 1_000 } });
    const elsewhere = testApp({ clock });
    const api = stampede(inProcessApi(app));
    const { body: event } = await api.createEvent({ name: 'stale', capacity: 2, strategy: 'sharded', shards: 2, maxPerBuyer: 2 });
    const held = (await api.reserve(event.eventId, { buyer: 'ann', quantity: 2 })).body;
    expect((await api.reserve(event.eventId, { buyer: 'bob', quantity: 1 })).body.error).toBe('sold_out');

    // Ann gives her tickets back through another process (another Lambda environment).
    clock.advance(10);
    expect((await stampede(inProcessApi(elsewhere)).release(held)).body.status).toBe('RELEASED');
    // Within the bound this process may still answer from the read it has, without a write...
    clock.advance(989);
    expect((await api.reserve(event.eventId, { buyer: 'bob', quantity: 1 })).body.error).toBe('sold_out');
    expect((await api.getEvent(event.eventId)).body.available).toBe(0);
    // ...but once the bound has passed since the tickets came back, they are sold and shown.
    clock.advance(1_001);
    expect((await api.getEvent(event.eventId)).body.available).toBe(2);
    expect((await api.reserve(event.eventId, { buyer: 'bob', quantity: 1 })).status).toBe(201);
    expect((await audit(app, event.eventId)).violations).toEqual([]);
  });
});
