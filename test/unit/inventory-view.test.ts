import { describe, expect, it } from 'vitest';
import { InventorySnapshots } from '../../functions/data/inventory/inventory-snapshots';
import { InventoryView, planTakes } from '../../functions/data/inventory/inventory-view';
import { TicketClaim } from '../../functions/data/strategies/ticket-claims';
import type { TicketEvent } from '../../functions/domain/model';

const sequence =
  (...values: number[]) =>
  () =>
    values.shift() ?? 0;

describe('InventoryView', () => {
  it('knows nothing until a read, so the first hold reads before it writes', () => {
    const view = new InventoryView(4);
    expect(view.estimates()).toBeUndefined();
    expect(view.claimShard(1, Math.random)).toBeUndefined();
  });

  it('claims shards at random weighted by what they hold, skipping those with too few', () => {
    const view = new InventoryView(4);
    view.replace([1, 6, 0, 2]);
    // Weights for quantity 2: shard 1 holds 6, shard 3 holds 2 (shard 0 has too few): 6/8 vs 2/8.
    expect(view.claimShard(2, sequence(0.7))).toEqual({ shard: 1, quantity: 2 });
    expect(view.claimShard(2, sequence(0.99))).toEqual({ shard: 3, quantity: 2 });
    expect(view.claimShard(5, Math.random)).toBeUndefined();
  });

  it('counts a claim as taken at once, so concurrent holds spread out, and gives it back on failure', () => {
    const view = new InventoryView(2);
    view.replace([1, 1]);
    const first = view.claimShard(1, sequence(0))!;
    const second = view.claimShard(1, sequence(0))!;
    expect([first.shard, second.shard].sort()).toEqual([0, 1]);
    expect(view.estimates()).toEqual([0, 0]);
    view.giveBack([second]);
    expect(view.claimShard(1, sequence(0))).toEqual(second);
  });

  it('keeps claims still in flight when a fresh read replaces what it knows', () => {
    const view = new InventoryView(1);
    view.replace([3]);
    const claim = view.claimShard(2, Math.random)!;
    view.replace([3]); // read before the claimed write landed
    expect(view.estimates()).toEqual([1]);
    view.taken([claim]);
    expect(view.estimates()).toEqual([1]);
  });

  it('does not let a slow read undo holds that completed while it was on its way', () => {
    const view = new InventoryView(1);
    view.replace([5]);
    const mark = view.mark();
    view.taken([view.claimShard(2, Math.random)!]); // completes after the read was asked for
    view.replace([5], mark); // the read did not see it
    expect(view.estimates()).toEqual([3]);
  });

  it('wakes holds waiting on claimed tickets as soon as a claim settles', async () => {
    const view = new InventoryView(1);
    view.replace([1]);
    const claim = view.claimShard(1, Math.random)!;
    expect(view.hasClaims).toBe(true);
    let woke = false;
    const waiting = view.nextSettlement(60_000).then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    view.taken([claim]);
    await waiting;
    expect(woke).toBe(true);
    expect(view.hasClaims).toBe(false);
    expect(view.estimates()).toEqual([0]);
  });

  it('settles a claim once however its hold ends, so the finally-giveBack never frees another claim', () => {
    const view = new InventoryView(2);
    view.replace([3, 3]);
    const first = new TicketClaim(view, [{ shard: 0, quantity: 2 }]);
    const second = new TicketClaim(view, [{ shard: 0, quantity: 1 }]);
    view.claim([...first.takes, ...second.takes]);
    expect(view.estimates()).toEqual([0, 3]);
    first.taken();
    first.giveBack();
    expect(view.estimates()).toEqual([0, 3]); // 1 known, still claimed by `second`
    second.short([{ take: second.takes[0]!, available: 0 }]);
    second.giveBack();
    expect(view.estimates()).toEqual([0, 3]);
    expect(view.hasClaims).toBe(false);
  });

  it('learns the exact count from a failed condition, or an upper bound without one', () => {
    const view = new InventoryView(2);
    view.replace([3, 3]);
    view.short({ shard: 0, quantity: 3 }, undefined); // fewer than 3
    expect(view.claimShard(3, sequence(0))).toEqual({ shard: 1, quantity: 3 });
    view.short({ shard: 1, quantity: 3 }, 1);
    expect(view.estimates()).toEqual([2, 1]);
    view.forget();
    expect(view.estimates()).toBeUndefined();
  });
});

describe('planTakes', () => {
  it('prefers one shard that can serve the whole request', () => {
    expect(planTakes([1, 4, 0], 3, sequence(0), 8)).toEqual([{ shard: 1, quantity: 3 }]);
    expect(planTakes([5, 0, 5], 3, sequence(0.99), 8)).toEqual([{ shard: 2, quantity: 3 }]);
  });

  it('combines the fullest shards when no single one can', () => {
    expect(planTakes([2, 1, 3, 0], 5, Math.random, 8)).toEqual([
      { shard: 2, quantity: 3 },
      { shard: 0, quantity: 2 },
    ]);
  });

  it('refuses a plan that needs more shards than one transaction holds', () => {
    expect(planTakes([1, 1, 1, 1], 4, Math.random, 3)).toBeUndefined();
    expect(planTakes([1, 1], 3, Math.random, 8)).toBeUndefined();
  });
});

describe('InventorySnapshots', () => {
  const event = { eventId: 'evt_1', shards: 2 } as TicketEvent;
  const available = (snapshot: Promise<{ available: readonly number[] }>) => snapshot.then((s) => s.available);

  it('shares the next read among all callers that arrive while one is in flight', async () => {
    let reads = 0;
    const snapshots = new InventorySnapshots(async () => [++reads, 0]);
    const results = await Promise.all(Array.from({ length: 5 }, () => available(snapshots.latest(event, 0))));
    expect(results).toEqual([
      [1, 0],
      [2, 0],
      [2, 0],
      [2, 0],
      [2, 0],
    ]);
    expect(reads).toBe(2);
  });

  it('never answers a caller with a read that started before it arrived, when no staleness is allowed', async () => {
    let now = 1_000;
    const started: ((value: number[]) => void)[] = [];
    const snapshots = new InventorySnapshots(
      () => new Promise<number[]>((resolve) => started.push(resolve)),
      () => now,
    );
    const early = snapshots.latest(event, 0);
    now += 1; // the next two arrive while the first read is in flight
    const late1 = snapshots.latest(event, 0);
    const late2 = snapshots.latest(event, 0);
    expect(started).toHaveLength(1);
    started[0]!([1, 1]);
    expect(await early).toEqual({ available: [1, 1], startedAfterAsking: true });
    for (let turn = 0; turn < 10 && started.length < 2; turn++) await Promise.resolve(); // the late callers' read starts
    expect(started).toHaveLength(2); // one more read, shared by both late callers
    started[1]!([0, 0]);
    expect(await Promise.all([late1, late2])).toEqual([
      { available: [0, 0], startedAfterAsking: true },
      { available: [0, 0], startedAfterAsking: true },
    ]);
  });

  it('does not call a shared read fresh for a caller it started before, even if a newer read starts before that caller wakes', async () => {
    let now = 1_000;
    const started: ((value: number[]) => void)[] = [];
    const reads: Promise<number[]>[] = [];
    const snapshots = new InventorySnapshots(
      () => {
        const read = new Promise<number[]>((resolve) => started.push(resolve));
        reads.push(read);
        return read;
      },
      () => now,
    );
    const first = snapshots.latest(event, 1_000);
    // Runs after the first read answers and clears itself, but before the next caller wakes: a strict caller starts a new read.
    let strict: Promise<unknown> | undefined;
    reads[0]!.then(() => {
      strict = snapshots.latest(event, 0);
    });
    now += 1;
    const joined = snapshots.latest(event, 1_000); // asks after the first read started, and may use it (1 ms old)
    started[0]!([0, 0]);
    expect(await first).toEqual({ available: [0, 0], startedAfterAsking: true });
    expect(await joined).toEqual({ available: [0, 0], startedAfterAsking: false });
    expect(started).toHaveLength(2); // the strict caller's read did start in between
    started[1]!([1, 0]);
    expect(await strict).toEqual({ available: [1, 0], startedAfterAsking: true });
  });

  it('answers from a read at most maxAgeMs old, then reads again: a returned ticket is seen within the bound', async () => {
    let now = 0;
    let stock = [0, 0];
    let reads = 0;
    const snapshots = new InventorySnapshots(
      async () => {
        reads++;
        return [...stock];
      },
      () => now,
    );
    expect(await snapshots.latest(event, 1_000)).toEqual({ available: [0, 0], startedAfterAsking: true });
    stock = [1, 0]; // a ticket comes back
    now = 999;
    expect(await snapshots.latest(event, 1_000)).toEqual({ available: [0, 0], startedAfterAsking: false });
    now = 1_000;
    expect((await snapshots.latest(event, 1_000)).available).toEqual([0, 0]); // started exactly 1,000 ms ago: still within
    now = 1_001;
    expect(await snapshots.latest(event, 1_000)).toEqual({ available: [1, 0], startedAfterAsking: true });
    expect(reads).toBe(2);
  });

  it('lets the next caller read again after a failed read', async () => {
    let calls = 0;
    const snapshots = new InventorySnapshots(async () => {
      if (++calls === 1) throw new Error('throttled');
      return [7, 0];
    });
    await expect(snapshots.latest(event, 1_000)).rejects.toThrow('throttled');
    expect(await available(snapshots.latest(event, 1_000))).toEqual([7, 0]);
  });
});
