import { describe, expect, it } from 'vitest';
import { InventorySnapshots } from '../../functions/data/inventory/inventory-snapshots';
import { InventoryView, planTakes } from '../../functions/data/inventory/inventory-view';
import type { TicketEvent } from '../../functions/domain/model';

const sequence = (...values: number[]) => () => values.shift() ?? 0;

describe('InventoryView', () => {
  it('knows nothing until a read, so the first hold reads before it writes', () => {
    const view = new InventoryView(4);
    expect(view.isKnown).toBe(false);
    expect(view.pickShard(1, Math.random)).toBeUndefined();
  });

  it('picks uniformly among shards believed to have enough', () => {
    const view = new InventoryView(4);
    view.replace([0, 5, 1, 5]);
    expect(view.pickShard(2, sequence(0))).toEqual({ shard: 1, quantity: 2 });
    expect(view.pickShard(2, sequence(0.99))).toEqual({ shard: 3, quantity: 2 });
    expect(view.pickShard(6, Math.random)).toBeUndefined();
  });

  it('learns from takes and shortfalls, never raising an estimate on its own', () => {
    const view = new InventoryView(2);
    view.replace([3, 3]);
    view.recordTaken([{ shard: 0, quantity: 2 }]);
    view.recordShortfall({ shard: 1, quantity: 3 }, undefined); // "fewer than 3"
    expect(view.pickShard(2, Math.random)).toEqual({ shard: 1, quantity: 2 });
    view.recordShortfall({ shard: 1, quantity: 2 }, 0);
    expect(view.pickShard(1, sequence(0))).toEqual({ shard: 0, quantity: 1 });
    view.forget();
    expect(view.pickShard(1, Math.random)).toBeUndefined();
  });
});

describe('planTakes', () => {
  it('prefers one shard that can serve the whole request', () => {
    expect(planTakes([1, 4, 0], 3, sequence(0), 8)).toEqual([{ shard: 1, quantity: 3 }]);
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

  it('shares the next read among all callers that arrive while one is in flight', async () => {
    let reads = 0;
    const snapshots = new InventorySnapshots(async () => [++reads, 0]);
    const results = await Promise.all(Array.from({ length: 5 }, () => snapshots.latest(event)));
    expect(results).toEqual([[1, 0], [2, 0], [2, 0], [2, 0], [2, 0]]);
    expect(reads).toBe(2);
  });

  it('never answers a caller with a read that started before it arrived', async () => {
    const started: ((value: number[]) => void)[] = [];
    const snapshots = new InventorySnapshots(() => new Promise<number[]>((resolve) => started.push(resolve)));
    const early = snapshots.latest(event);
    const late1 = snapshots.latest(event); // arrives while the first read is in flight
    const late2 = snapshots.latest(event);
    expect(started).toHaveLength(1);
    started[0]!([1, 1]);
    expect(await early).toEqual([1, 1]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(started).toHaveLength(2); // one more read, shared by both late callers
    started[1]!([0, 0]);
    expect(await Promise.all([late1, late2])).toEqual([[0, 0], [0, 0]]);
  });

  it('lets the next caller read again after a failed read', async () => {
    let calls = 0;
    const snapshots = new InventorySnapshots(async () => {
      if (++calls === 1) throw new Error('throttled');
      return [7, 0];
    });
    await expect(snapshots.latest(event)).rejects.toThrow('throttled');
    expect(await snapshots.latest(event)).toEqual([7, 0]);
  });
});
