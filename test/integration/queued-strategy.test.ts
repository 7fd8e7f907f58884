import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { inventoryKey, returnBinOf } from '../../functions/data/items/inventory-item';
import { reservationKey } from '../../functions/data/items/reservation-item';
import { ManualClock } from '../../functions/domain/clock';
import type { StreamPoller } from '../../local/stream-poller';
import { type ApiResponse, inProcessApi, type Stampede, stampede } from '../support/api';
import { audit } from '../support/audit';
import { buy, countBy } from '../support/buyers';
import { afterCalls, afterFirstCall, barrier, beforeCalls, type CallInfo, sdkError } from '../support/faults';
import { ownDynamoDbLocal } from '../support/own-dynamodb-local';
import { queuedTestApp, startDecider } from '../support/queued';
import { testApp } from '../support/test-app';

/**
 * The `queued` strategy: requests are written to the event's log and decided in log order by
 * the stream's consumer (the same handler and filter the event source mapping uses on AWS, fed
 * by a poller of DynamoDB Local's stream). Each test has its own table: a consumer decides every
 * queued request in its table. The file has its own DynamoDB Local: its stream history would
 * slow every later file's writes on the shared one (own-dynamodb-local.ts).
 */
const endpoint = ownDynamoDbLocal();
const running: StreamPoller[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((poller) => poller.stop()));
});

async function setUp(table: string, options: Parameters<typeof queuedTestApp>[1] = {}) {
  const queued = await queuedTestApp(`stampede-queued-${table}`, { ...options, config: { endpoint: endpoint(), ...options.config } });
  if (queued.decider) running.push(queued.decider);
  return { ...queued, api: stampede(inProcessApi(queued.app)) };
}

async function setUpDeciding(table: string, options: Parameters<typeof queuedTestApp>[1] = {}) {
  const set = await setUp(table, options);
  return { ...set, decider: set.decider! };
}

/** A client of a queued event: answered 202, it reads its reservation until it is decided. */
async function decided(api: Stampede, response: ApiResponse): Promise<ApiResponse> {
  if (response.status !== 202) return response;
  for (let reads = 0; reads < 2_000; reads++) {
    const current = await api.getReservation(response.body);
    if (current.body.status !== 'QUEUED') return current;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`Reservation ${response.body.reservationId} was never decided`);
}

describe('queued strategy', () => {
  it('decides in arrival order: of 300 requests sent one after another for 100 tickets, the first 100 win', async () => {
    // The consumer starts once all 300 are in the log, so none is refused at the door; every one is decided by its turn.
    const { app, api } = await setUp('order', { config: { queueWaitMs: 0 }, decide: false });
    const { body: event } = await api.createEvent({ name: 'in order', capacity: 100, strategy: 'queued', shards: 1 });

    const admitted: ApiResponse[] = [];
    for (let i = 0; i < 300; i++) admitted.push(await api.reserve(event.eventId, { buyer: `buyer-${i}`, quantity: 1 }));
    const decider = await startDecider(app);
    running.push(decider);
    await decider.caughtUp();

    expect(countBy(admitted, (r) => r.status)).toEqual({ 202: 300 });
    expect(admitted[0]!.body.status).toBe('QUEUED');
    expect(admitted[0]!.headers.location).toBe(`/reservations/${admitted[0]!.body.reservationId}`);
    const outcomes = await Promise.all(admitted.map(async (r) => (await api.getReservation(r.body)).body));
    expect(outcomes.slice(0, 100).map((r) => r.status)).toEqual(Array(100).fill('HELD'));
    expect(outcomes.slice(100).map((r) => [r.status, r.rejection])).toEqual(Array(200).fill(['REJECTED', 'sold_out']));
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ sold: 100, remaining: 0, queued: 0, rejected: 200 });
  });

  it('passes over a request that does not fit for a later one that does, in order otherwise', async () => {
    const { app, api } = await setUp('mixed', { config: { queueWaitMs: 0 }, decide: false });
    const { body: event } = await api.createEvent({ name: 'mixed', capacity: 10, strategy: 'queued', shards: 1, maxPerBuyer: 4 });
    const quantities = [4, 4, 3, 1, 2, 1, 1];

    const admitted: ApiResponse[] = [];
    for (const [i, quantity] of quantities.entries()) admitted.push(await api.reserve(event.eventId, { buyer: `buyer-${i}`, quantity }));
    const decider = await startDecider(app);
    running.push(decider);
    await decider.caughtUp();

    const outcomes = await Promise.all(admitted.map(async (r) => (await api.getReservation(r.body)).body.status));
    expect(outcomes).toEqual(['HELD', 'HELD', 'REJECTED', 'HELD', 'REJECTED', 'HELD', 'REJECTED']);
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ sold: 10, remaining: 0, rejected: 3 });
  });

  it('puts returned tickets in return bins, not the stock, and gives them to the next requests in line', async () => {
    const { app, api } = await setUp('returns', { config: { queueWaitMs: 0, soldOutStalenessMs: 0 }, decide: false });
    const { body: event } = await api.createEvent({ name: 'returns', capacity: 10, strategy: 'queued', shards: 1 });
    const inventory = async () =>
      Promise.all(
        Array.from({ length: 9 }, async (_, item) => {
          const { Item } = await app.db.send(new GetCommand({ TableName: app.config.tableName, Key: inventoryKey(event.eventId, item), ConsistentRead: true }));
          return { available: Number(Item!.available), version: Number(Item!.version) };
        }),
      );
    const decideAll = async () => {
      const decider = await startDecider(app);
      running.push(decider);
      await decider.caughtUp();
      await decider.stop();
    };

    const first: ApiResponse[] = [];
    for (let i = 0; i < 10; i++) first.push(await api.reserve(event.eventId, { buyer: `first-${i}`, quantity: 1 }));
    await decideAll();
    const stockAfterSale = (await inventory())[0]!;
    const releases = await Promise.all(first.slice(0, 6).map((r) => api.release(r.body)));
    const afterReturns = await inventory();

    expect(releases.map((r) => r.body.status)).toEqual(Array(6).fill('RELEASED'));
    // The six returns wrote the bins, not the stock: its version (+1 on every write) did not move.
    expect(afterReturns[0]).toEqual({ available: 0, version: stockAfterSale.version });
    expect(afterReturns.slice(1).reduce((sum, bin) => sum + bin.available, 0)).toBe(6);

    const second: ApiResponse[] = [];
    for (let i = 0; i < 8; i++) second.push(await api.reserve(event.eventId, { buyer: `second-${i}`, quantity: 1 }));
    await decideAll();

    expect(second.map((r) => r.status)).toEqual(Array(8).fill(202));
    const outcomes = await Promise.all(second.map(async (r) => (await api.getReservation(r.body)).body));
    expect(outcomes.map((r) => r.status)).toEqual([...Array(6).fill('HELD'), 'REJECTED', 'REJECTED']);
    expect((await inventory()).map((item) => item.available)).toEqual(Array(9).fill(0));
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ sold: 10, remaining: 0, released: 6, rejected: 2 });
  });

  it('loses and doubles nothing when releases race two consumers folding the same return bins', async () => {
    const { app, api } = await setUpDeciding('fold-race', { config: { queueWaitMs: 0, soldOutStalenessMs: 0 } });
    running.push(await startDecider(app)); // a second consumer: both decide, and fold, the same event
    const { body: event } = await api.createEvent({ name: 'fold race', capacity: 200, strategy: 'queued', shards: 8 });
    const wave = (name: string) =>
      Promise.all(Array.from({ length: 200 }, async (_, i) => decided(api, await buy(api, event.eventId, `${name}-${i}`, 1, `${name}-${i}`))));

    const first = await wave('first');
    // Half the first wave's holders release while a second wave is decided: every ticket the
    // second wave gets came back through a return bin, since the stock was empty.
    const [releases, second] = await Promise.all([Promise.all(first.filter((_, i) => i % 2 === 0).map((r) => api.release(r.body))), wave('second')]);

    expect(first.map((r) => r.body.status)).toEqual(Array(200).fill('HELD'));
    expect(countBy(releases, (r) => r.body.status)).toEqual({ RELEASED: 100 });
    const secondHeld = second.filter((r) => r.body.status === 'HELD').length;
    expect(secondHeld).toBeGreaterThan(0);
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ sold: 100 + secondHeld, remaining: 100 - secondHeld, released: 100, oversold: 0, lost: 0, queued: 0 });
  });

  it('never turns a request down on a stock read that a concurrent fold of the return bins made stale', async () => {
    const { app, api } = await setUp('stale-fold', { config: { queueWaitMs: 0 }, decide: false });
    const { body: event } = await api.createEvent({ name: 'stale fold', capacity: 2, strategy: 'queued', shards: 2 });
    const sold = [await api.reserve(event.eventId, { buyer: 'a', quantity: 1 }), await api.reserve(event.eventId, { buyer: 'b', quantity: 1 })];
    const decider = await startDecider(app);
    await decider.caughtUp();
    await decider.stop();
    await Promise.all(sold.map((r) => api.release(r.body))); // the stock is empty, two tickets wait in return bins
    const entryOf = (r: ApiResponse) => ({ request: { ...r.body, createdAt: 0 }, position: r.body.reservationId });
    const x = await api.reserve(event.eventId, { buyer: 'x', quantity: 1 });
    const y = await api.reserve(event.eventId, { buyer: 'y', quantity: 1 });

    // Consumer X reads the empty stock; before it folds, consumer Y (another log key's) folds both
    // returned tickets into the stock and holds one. X's own fold then finds the bins empty.
    const consumerX = testApp({ config: app.config });
    const consumerY = testApp({ config: app.config });
    let paused = false;
    afterCalls(
      consumerX.db,
      (call) => call.operation === 'GetItem' && call.input.Key?.pk === inventoryKey(event.eventId, 0).pk && !paused,
      async () => {
        paused = true;
        expect(await consumerY.queueConsumer.consume([entryOf(y)])).toMatchObject({ held: 1, rejected: 0 });
      },
    );
    const decidedByX = await consumerX.queueConsumer.consume([entryOf(x)]);

    expect(paused).toBe(true);
    expect(decidedByX).toMatchObject({ held: 1, rejected: 0 }); // the ticket left in the stock, not sold_out
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ sold: 2, remaining: 0, released: 2, rejected: 0 });
  });

  it('folds again when a concurrent fold cancels its own, so a ticket it saw in another bin is not left there while it turns a request down', async () => {
    const { app, api } = await setUp('cancelled-fold', { config: { queueWaitMs: 0 }, decide: false });
    const { body: event } = await api.createEvent({ name: 'cancelled fold', capacity: 8, strategy: 'queued', shards: 2 });
    const sold = await Promise.all(Array.from({ length: 8 }, (_, i) => api.reserve(event.eventId, { buyer: `s${i}`, quantity: 1 })));
    const decider = await startDecider(app);
    await decider.caughtUp();
    await decider.stop();
    const held = await Promise.all(sold.map((r) => api.getReservation(r.body)));
    expect(held.map((r) => r.body.status)).toEqual(Array(8).fill('HELD'));
    // Two holds whose tickets go back to two different return bins.
    const a = held[0]!.body;
    const b = held.find((r) => returnBinOf(r.body.reservationId) !== returnBinOf(a.reservationId))!.body;
    await api.release(a); // the stock is empty; a's bin holds one ticket
    const entryOf = (r: ApiResponse) => ({ request: { ...r.body, createdAt: 0 }, position: r.body.reservationId });
    const x = await api.reserve(event.eventId, { buyer: 'x', quantity: 1 });
    const y = await api.reserve(event.eventId, { buyer: 'y', quantity: 1 });

    // Y reads the bins (a's ticket); b's ticket comes back; X reads the bins (both); Y folds a's bin
    // and holds y; X's fold of both bins is cancelled by a's, now empty. X must still find b's.
    const consumerX = testApp({ config: app.config });
    const consumerY = testApp({ config: app.config });
    const readsBins = (call: CallInfo) =>
      call.operation === 'BatchGetItem' &&
      Object.values(call.input.RequestItems as Record<string, { Keys: { pk: string; sk: string }[] }>).some((request) =>
        request.Keys.some((key) => key.pk === inventoryKey(event.eventId, 1).pk && key.sk === inventoryKey(event.eventId, 1).sk),
      );
    let xReadBins!: () => void;
    const xHasReadBins = new Promise<void>((resolve) => {
      xReadBins = resolve;
    });
    let decidingX: Promise<unknown> | undefined;
    afterFirstCall(consumerY.db, readsBins, async () => {
      await api.release(b);
      decidingX = consumerX.queueConsumer.consume([entryOf(x)]);
      await xHasReadBins;
    });
    let decidingY!: Promise<unknown>;
    afterFirstCall(consumerX.db, readsBins, async () => {
      xReadBins();
      await decidingY;
    });
    decidingY = consumerY.queueConsumer.consume([entryOf(y)]);

    expect(await decidingY).toMatchObject({ held: 1, rejected: 0 });
    expect(await decidingX).toMatchObject({ held: 1, rejected: 0 }); // b's ticket, not sold_out
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ sold: 8, remaining: 0, released: 2, rejected: 0 });
  });

  it('sells exactly 1,000 tickets when 5,000 buyers rush at once, spread over log keys', async () => {
    const { app, api, decider } = await setUpDeciding('rush');
    const { body: event } = await api.createEvent({ name: 'rush', capacity: 1_000, strategy: 'queued', shards: 8 });

    const answers = await Promise.all(Array.from({ length: 5_000 }, (_, i) => buy(api, event.eventId, `buyer-${i}`, 1, `key-${i}`)));
    const statuses = countBy(answers, (r) => r.status);
    const outcomes = await Promise.all(answers.map((r) => decided(api, r)));
    await decider.caughtUp();

    // Answered at once (201 held, 409 sold out at the door or by its turn) or 202 and decided later.
    expect(Object.keys(statuses).every((status) => ['201', '202', '409'].includes(status))).toBe(true);
    const held = outcomes.filter((r) => r.body.status === 'HELD');
    expect(held).toHaveLength(1_000);
    for (const r of outcomes.filter((r) => r.body.status !== 'HELD')) expect(r.body.error ?? r.body.rejection).toBe('sold_out');
    expect(new Set(held.map((r) => r.body.buyerId)).size).toBe(1_000);
    expect((await api.getEvent(event.eventId)).body.available).toBe(0);
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ sold: 1_000, remaining: 0, oversold: 0, lost: 0, queued: 0 });
  });

  it('never sells more than capacity, and refuses only requests larger than what remains, with mixed quantities racing', async () => {
    const { app, api, decider } = await setUpDeciding('mixed-race', { config: { queueWaitMs: 0 } });
    // Half the size of the other strategies' mixed race (1,200 for 1,000): the same shape, in half the time.
    const { body: event } = await api.createEvent({ name: 'mixed race', capacity: 500, strategy: 'queued', shards: 8 });
    const quantities = Array.from({ length: 600 }, (_, i) => 1 + (i % 4));

    const answers = await Promise.all(quantities.map((quantity, i) => buy(api, event.eventId, `buyer-${i}`, quantity, `mixed-${i}`)));
    const outcomes = await Promise.all(answers.map((r) => decided(api, r)));
    await decider.caughtUp();

    const held = outcomes.filter((r) => r.body.status === 'HELD');
    const refused = outcomes.filter((r) => r.body.status !== 'HELD');
    expect(held.length + refused.length).toBe(600);
    const sold = held.reduce((total, r) => total + r.body.quantity, 0);
    const remaining = (await api.getEvent(event.eventId)).body.available;
    expect(sold).toBeLessThanOrEqual(500);
    expect(sold + remaining).toBe(500);
    // A request is passed over only when it does not fit, and tickets only left inventory: what remains
    // at the end is fewer than any refused request asked for.
    for (const [i, r] of answers.entries()) {
      if (outcomes[i]!.body.status === 'HELD') continue;
      expect(outcomes[i]!.body.error ?? outcomes[i]!.body.rejection).toBe('sold_out');
      expect(remaining).toBeLessThan(quantities[i]!);
      expect(r.status === 409 || r.status === 202).toBe(true);
    }
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ sold, queued: 0, oversold: 0, lost: 0 });
  });

  it('stamps each decision with the time it is written, not the time its batch began: later chunks decide later and hold as long', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 12));
    const { app, api } = await setUp('decided-at', { config: { queueWaitMs: 0 }, decide: false, clock });
    const { body: event } = await api.createEvent({ name: 'decided at', capacity: 10, strategy: 'queued', shards: 1, holdSeconds: 60 });
    const requests = [];
    for (let i = 0; i < 12; i++) requests.push(await api.reserve(event.eventId, { buyer: `b${i}`, quantity: 1 }));
    // Every transaction takes 100 ms of the consumer's clock: chunks of 9 winners, then rejections.
    const consumer = testApp({ config: app.config, clock });
    beforeCalls(
      consumer.db,
      (call) => call.operation === 'TransactWriteItems',
      () => clock.advance(100),
    );
    const started = clock.now();
    await consumer.queueConsumer.consume(requests.map((r) => ({ request: { ...r.body, createdAt: 0 }, position: r.body.reservationId })));

    const items = await Promise.all(
      requests.map(
        async (r) =>
          (await app.db.send(new GetCommand({ TableName: app.config.tableName, Key: reservationKey(r.body.reservationId), ConsistentRead: true }))).Item!,
      ),
    );
    expect(items.map((item) => item.status)).toEqual([...Array(10).fill('HELD'), 'REJECTED', 'REJECTED']);
    const decidedAt = items.map((item) => Number(item.decidedAt) - started);
    expect(new Set(decidedAt.slice(0, 9)).size).toBe(1); // one chunk, one write
    expect(decidedAt[9]).toBeGreaterThan(decidedAt[0]!); // the second chunk, a transaction later
    expect(decidedAt[10]).toBeGreaterThan(decidedAt[9]!); // the rejections, after the chunk before them
    for (const item of items.slice(0, 10)) expect(Number(item.expiresAt) - Number(item.decidedAt)).toBe(60_000);
  });

  it('turns concurrent replays of one Idempotency-Key into a single request, decided once', async () => {
    const { app, api, decider } = await setUpDeciding('replay-race', { config: { queueWaitMs: 0 } });
    const { body: event } = await api.createEvent({ name: 'replay race', capacity: 100, strategy: 'queued', shards: 4 });

    const answers = await Promise.all(Array.from({ length: 50 }, () => buy(api, event.eventId, 'buyer-replay', 3, 'replay-key')));
    await decider.caughtUp();

    // 202 (with where to look) while the request is in line, first asked or replayed; 200 once decided.
    for (const answer of answers) {
      expect([200, 202]).toContain(answer.status);
      if (answer.status === 202) expect([answer.body.status, answer.headers.location]).toEqual(['QUEUED', `/reservations/${answer.body.reservationId}`]);
      else expect(answer.body.status).toBe('HELD');
    }
    expect(new Set(answers.map((r) => r.body.reservationId)).size).toBe(1);
    expect((await decided(api, answers[0]!)).body).toMatchObject({ status: 'HELD', quantity: 3 });
    expect((await api.getEvent(event.eventId)).body.available).toBe(97);
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ reservations: 1, held: 3, doubleHolds: 0 });
  });

  it('answers a replay of a request still in line as the first time: 202 and where to look, not 200 as if it held tickets', async () => {
    const { api } = await setUp('replay-queued', { config: { queueWaitMs: 0 }, decide: false });
    const { body: event } = await api.createEvent({ name: 'replay queued', capacity: 5, strategy: 'queued' });
    const first = await api.reserve(event.eventId, { buyer: 'rita', quantity: 2 }, 'rita-key');
    const replay = await api.reserve(event.eventId, { buyer: 'rita', quantity: 2 }, 'rita-key');
    for (const answer of [first, replay]) {
      expect([answer.status, answer.body.status, answer.headers.location]).toEqual([202, 'QUEUED', `/reservations/${first.body.reservationId}`]);
    }
  });

  it('never lets one buyer racing with itself exceed the per-buyer limit', async () => {
    const { app, api, decider } = await setUpDeciding('limit-race', { config: { queueWaitMs: 0 } });
    const { body: event } = await api.createEvent({ name: 'limit race', capacity: 500, strategy: 'queued', shards: 4, maxPerBuyer: 10 });

    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => buy(api, event.eventId, 'greedy-buyer', 1 + (i % 3), `greedy-${i}`)));
    const outcomes = await Promise.all(answers.map((r) => decided(api, r)));
    await decider.caughtUp();

    const held = outcomes.filter((r) => r.body.status === 'HELD').reduce((total, r) => total + r.body.quantity, 0);
    expect(held).toBeLessThanOrEqual(10);
    expect(held).toBeGreaterThanOrEqual(8); // refused only when the next 1-3 tickets would pass 10
    for (const r of outcomes.filter((r) => r.body.status !== 'HELD')) expect(r.body.error ?? r.body.rejection).toBe('buyer_limit_exceeded');
    expect((await api.getEvent(event.eventId)).body.available).toBe(500 - held);
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report.buyersOverLimit).toBe(0);
  });

  it('answers at once when the decision comes within the wait: 201 for a hold, 409 sold_out for a refusal', async () => {
    // A wait far longer than any decision takes, so a loaded machine still answers within it.
    const { api } = await setUp('wait', { config: { queueWaitMs: 60_000 } });
    const { body: event } = await api.createEvent({ name: 'waited', capacity: 3, strategy: 'queued', shards: 1 });

    const first = await api.reserve(event.eventId, { buyer: 'ann', quantity: 2 });
    const second = await api.reserve(event.eventId, { buyer: 'ben', quantity: 2 });

    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'HELD', quantity: 2 });
    expect(second.status).toBe(409);
    expect(second.body.error).toBe('sold_out');
    // The refused request is on record, decided, and its tickets count against nobody.
    const { body: again } = await api.reserve(event.eventId, { buyer: 'ben', quantity: 1 });
    expect(again.status).toBe('HELD');
  });

  it('looks for its decision 50 ms after writing it, then twice as long after each look, until the wait ends', async () => {
    const clock = new ManualClock(Date.now());
    const pauses: number[] = [];
    const sleep = async (milliseconds: number) => {
      pauses.push(milliseconds);
      clock.advance(milliseconds);
    };
    const { api } = await setUp('wait-reads', { config: { queueWaitMs: 1_000 }, decide: false, clock, sleep });
    const { body: event } = await api.createEvent({ name: 'undecided', capacity: 3, strategy: 'queued', shards: 1 });

    const response = await api.reserve(event.eventId, { buyer: 'ann', quantity: 1 });

    expect(response.status).toBe(202);
    expect(response.body.status).toBe('QUEUED');
    // Five reads in a 1 s wait (at 50, 150, 350, 750 and 1,000 ms), not one every 50 ms.
    expect(pauses).toEqual([50, 100, 200, 400, 250]);
  });

  it('counts a queued request toward its buyer limit at the door, and gives it back when refused', async () => {
    // Nothing is decided until every request is in.
    const { app, api } = await setUp('limit', { config: { queueWaitMs: 0 }, decide: false });
    const { body: event } = await api.createEvent({ name: 'limit', capacity: 3, strategy: 'queued', shards: 1, maxPerBuyer: 4 });

    await api.reserve(event.eventId, { buyer: 'filler', quantity: 2 });
    const queued = await api.reserve(event.eventId, { buyer: 'greedy', quantity: 3 });
    const overLimit = await api.reserve(event.eventId, { buyer: 'greedy', quantity: 2 });
    expect(queued.status).toBe(202);
    expect(overLimit.status).toBe(409);
    expect(overLimit.body.error).toBe('buyer_limit_exceeded');

    const decider = await startDecider(app);
    running.push(decider);
    await decider.caughtUp();
    expect((await api.getReservation(queued.body)).body).toMatchObject({ status: 'REJECTED', rejection: 'sold_out' });
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ sold: 2, remaining: 1, queued: 0, rejected: 1 });
  });

  it('decides nothing twice when the whole stream is delivered again (a consumer restarted from the oldest record)', async () => {
    const { app, api, decider } = await setUpDeciding('redelivery', { config: { queueWaitMs: 0 } });
    const { body: event } = await api.createEvent({ name: 'redelivered', capacity: 50, strategy: 'queued', shards: 4 });
    await Promise.all(Array.from({ length: 80 }, (_, i) => api.reserve(event.eventId, { buyer: `buyer-${i}`, quantity: 1 })));
    await decider.caughtUp();
    const before = await audit(app, event.eventId);

    const restarted = testApp({ config: app.config });
    const second = await startDecider(app, restarted);
    running.push(second);
    await second.caughtUp();

    const after = await audit(app, event.eventId);
    expect(after).toEqual(before);
    expect(after).toMatchObject({ sold: 50, rejected: 30, queued: 0 });
    expect(after.violations).toEqual([]);
    expect(restarted.telemetry.snapshot()).toEqual({ 'queued.QueueHeld': 0, 'queued.QueueRejected': 0 });
  });

  it('recovers from throttled decisions: the failed batch is delivered again and decided exactly once', async () => {
    const { app, api } = await setUp('throttled', { config: { queueWaitMs: 0 }, decide: false });
    const { body: event } = await api.createEvent({ name: 'throttled', capacity: 40, strategy: 'queued', shards: 1 });
    // The decisions are made by a consumer whose first writes are throttled past their retries.
    const flaky = testApp({ config: app.config, retryPolicy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    let throttled = 0;
    beforeCalls(
      flaky.db,
      (call) => call.operation === 'TransactWriteItems',
      () => {
        if (throttled++ < 3) throw sdkError('ProvisionedThroughputExceededException');
      },
    );
    const poller = await startDecider(app, flaky);
    running.push(poller);

    await Promise.all(Array.from({ length: 60 }, (_, i) => api.reserve(event.eventId, { buyer: `buyer-${i}`, quantity: 1 })));
    await poller.caughtUp();

    expect(throttled).toBeGreaterThan(3);
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ sold: 40, remaining: 0, rejected: 20, queued: 0 });
  });

  it('rejects the losers exactly once when a consumer dies after writing a chunk and before turning them down', async () => {
    const { app, api } = await setUp('crash-after-chunk', { config: { queueWaitMs: 0 }, decide: false });
    const { body: event } = await api.createEvent({ name: 'crash after chunk', capacity: 3, strategy: 'queued', shards: 1 });
    const requests = [];
    for (let i = 0; i < 6; i++) requests.push((await api.reserve(event.eventId, { buyer: `buyer-${i}`, quantity: 1 })).body);

    // The first consumer's chunk (3 winners) lands; the first of its rejections never does: it
    // "dies" there, and the stream delivers the batch again.
    const dying = testApp({ config: app.config, retryPolicy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    let chunks = 0;
    let killed = false;
    beforeCalls(
      dying.db,
      (call) => call.operation === 'TransactWriteItems',
      (call) => {
        if (JSON.stringify(call.input).includes('"HELD"')) chunks++;
        else if (!killed) {
          killed = true;
          throw sdkError('ProcessKilled');
        }
      },
    );
    const poller = await startDecider(app, dying);
    running.push(poller);
    await poller.caughtUp();

    expect([killed, chunks]).toEqual([true, 1]); // delivered again, its winners were not decided twice
    const statuses = await Promise.all(requests.map(async (request) => (await api.getReservation(request)).body.status));
    expect(statuses).toEqual(['HELD', 'HELD', 'HELD', 'REJECTED', 'REJECTED', 'REJECTED']);
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]); // every tally given back once: none doubled, none lost
    expect(report).toMatchObject({ sold: 3, remaining: 0, rejected: 3, queued: 0 });
  });

  it.each(['the sweeper first', 'the consumer first'] as const)(
    'lets exactly one of the consumer and the sweeper decide a request due for its timeout (%s)',
    async (order) => {
      const clock = new ManualClock(Date.UTC(2026, 11, 6, 12));
      const { app, api } = await setUp(`timeout-race-${order.split(' ')[1]}`, {
        clock,
        config: { queueWaitMs: 0, queueDecisionTimeoutMs: 300_000 },
        decide: false,
      });
      const { body: event } = await api.createEvent({ name: 'timeout race', capacity: 5, strategy: 'queued', shards: 1, maxPerBuyer: 2 });
      const { body: request } = await api.reserve(event.eventId, { buyer: 'ann', quantity: 2 });
      clock.advance(300_000); // due for the sweeper, and the consumer only now gets to it

      // The consumer has read the request as QUEUED and is about to write its chunk.
      const consumerApp = testApp({ config: app.config, clock });
      const reached = barrier(2);
      const resume = barrier(2);
      let chunks = 0;
      beforeCalls(
        consumerApp.db,
        (call) => call.operation === 'TransactWriteItems' && JSON.stringify(call.input).includes('"HELD"'),
        async () => {
          if (chunks++ > 0) return;
          await reached();
          await resume();
        },
      );
      const poller = await startDecider(app, consumerApp);
      running.push(poller);
      await reached();
      if (order === 'the sweeper first') {
        expect(await app.sweeper.sweep()).toMatchObject({ rejected: 1, failed: 0 });
        await resume();
        await poller.caughtUp();
        expect((await api.getReservation(request)).body).toMatchObject({ status: 'REJECTED', rejection: 'not_decided' });
      } else {
        await resume();
        await poller.caughtUp();
        expect(await app.sweeper.sweep()).toMatchObject({ rejected: 0, failed: 0 });
        expect((await api.getReservation(request)).body).toMatchObject({ status: 'HELD', quantity: 2 });
      }
      const report = await audit(app, event.eventId);
      expect(report.violations).toEqual([]); // tickets and Ann's tally moved once, whichever won
      expect(report).toMatchObject(order === 'the sweeper first' ? { remaining: 5, held: 0, rejected: 1 } : { remaining: 3, held: 2, rejected: 0 });
    },
  );

  it('keeps a request QUEUED until its turn: confirm and release answer not_held, another buyer gets 404', async () => {
    const { app, api } = await setUp('undecided', { config: { queueWaitMs: 0 }, decide: false });
    const { body: event } = await api.createEvent({ name: 'undecided', capacity: 5, strategy: 'queued', shards: 1 });
    const { body: request } = await api.reserve(event.eventId, { buyer: 'ann', quantity: 2 });

    const answers = await Promise.all([api.confirm(request), api.release(request), api.getReservation(request, 'bob')]);
    expect(answers.map((a) => [a.status, a.body.error])).toEqual([
      [409, 'not_held'],
      [409, 'not_held'],
      [404, 'reservation_not_found'],
    ]);
    expect((await api.getReservation(request)).body).toMatchObject({ status: 'QUEUED', quantity: 2 });

    const decider = await startDecider(app);
    running.push(decider);
    await decider.caughtUp();
    expect((await api.confirm(request)).body.status).toBe('CONFIRMED');
    expect(await audit(app, event.eventId)).toMatchObject({ confirmed: 2, remaining: 3, violations: [] });
  });

  it('rejects a request nobody decided by its decision timeout (not_decided) and gives its buyer the tickets back to ask for', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 1, 12));
    const { app, api } = await setUp('timeout', { clock, config: { queueWaitMs: 0, queueDecisionTimeoutMs: 300_000 }, decide: false });
    const { body: event } = await api.createEvent({ name: 'timeout', capacity: 5, strategy: 'queued', shards: 1, maxPerBuyer: 2 });
    const { body: request } = await api.reserve(event.eventId, { buyer: 'ann', quantity: 2 });

    clock.advance(299_000);
    expect(await app.sweeper.sweep()).toMatchObject({ rejected: 0, failed: 0 });
    clock.advance(1_000);
    expect(await app.sweeper.sweep()).toMatchObject({ rejected: 1, failed: 0 });

    expect((await api.getReservation(request)).body).toMatchObject({ status: 'REJECTED', rejection: 'not_decided' });
    // Her limit is hers again: the request no longer counts.
    expect((await api.reserve(event.eventId, { buyer: 'ann', quantity: 2 })).status).toBe(202);
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ remaining: 5, queued: 2, rejected: 1, undecided: 0 });
  });
});
