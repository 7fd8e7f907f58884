import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { addToBuyerTally, buyerTallyKey } from '../../functions/data/items/buyer-tally-item';
import { eventKey, fromEventItem, toEventItem } from '../../functions/data/items/event-item';
import { allocateCapacity, initialAllocation, inventoryKey, returnBinOf, takeFromShard } from '../../functions/data/items/inventory-item';
import { fromReservationItem, reservationKey, toReservationItem } from '../../functions/data/items/reservation-item';
import { newEventId, newReservationId, requestFingerprint, reservationIdForKey } from '../../functions/domain/ids';
import type { TicketEvent } from '../../functions/domain/model';
import { eventIdParameter, reservationIdParameter } from '../../functions/http/schemas';
import { countBy } from '../support/buyers';

describe('key builders', () => {
  it('gives every item type its own key shape', () => {
    expect(eventKey('evt_1')).toEqual({ pk: 'EVENT#evt_1', sk: 'EVENT' });
    expect(inventoryKey('evt_1', 3)).toEqual({ pk: 'EVENT#evt_1#SHARD#3', sk: 'INVENTORY' });
    expect(reservationKey('res_1')).toEqual({ pk: 'RESERVATION#res_1', sk: 'RESERVATION' });
    expect(buyerTallyKey('evt_1', 'alice')).toEqual({ pk: 'EVENT#evt_1#BUYER#alice', sk: 'TALLY' });
  });

  it('puts each inventory shard in a distinct partition', () => {
    const partitions = new Set(Array.from({ length: 16 }, (_, shard) => inventoryKey('evt_1', shard).pk));
    expect(partitions.size).toBe(16);
  });
});

describe('capacity allocation', () => {
  it.each([
    [10, 1, [10]],
    [10, 3, [4, 3, 3]],
    [16, 16, Array(16).fill(1)],
    [1_000_000, 7, [142_858, 142_857, 142_857, 142_857, 142_857, 142_857, 142_857]],
  ])('splits %i tickets over %i shards as evenly as possible', (capacity, shards, expected) => {
    const allocation = allocateCapacity(capacity, shards);
    expect(allocation).toEqual(expected);
    expect(allocation.reduce((a, b) => a + b, 0)).toBe(capacity);
  });
});

describe('queued inventory', () => {
  it('starts with every ticket in the stock and its return bins empty', () => {
    expect(initialAllocation({ strategy: 'queued', shards: 64, capacity: 500 })).toEqual([500, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(initialAllocation({ strategy: 'sharded', shards: 3, capacity: 10 })).toEqual([4, 3, 3]);
  });

  it('spreads returns over every return bin, never the stock', () => {
    const bins = Array.from({ length: 4_000 }, (_, i) => returnBinOf(`res_${i}`));
    const perBin = countBy(bins, (bin) => bin);
    expect(Object.keys(perBin).map(Number).sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const count of Object.values(perBin)) expect(count).toBeGreaterThan(400);
    expect(returnBinOf('res_42')).toBe(returnBinOf('res_42'));
  });
});

describe('conditions', () => {
  it('takes from a shard only while it has enough', () => {
    const update = takeFromShard('t', 'evt_1', { shard: 2, quantity: 3 });
    expect(update.ConditionExpression).toBe('#available >= :take');
    expect(update.ExpressionAttributeValues[':take']).toBe(3);
  });

  it('counts tickets against a buyer only up to the limit', () => {
    const update = addToBuyerTally('t', 'evt_1', 'alice', 3, 10);
    expect(update.ConditionExpression).toBe('attribute_not_exists(#tickets) OR #tickets <= :ceiling');
    expect(update.ExpressionAttributeValues[':ceiling']).toBe(7);
  });
});

describe('items round-trip', () => {
  it('stores and reads back an event', () => {
    const event: TicketEvent = { eventId: 'evt_x', name: 'n', capacity: 5, strategy: 'optimistic', shards: 1, holdSeconds: 60, maxPerBuyer: 2, createdAt: 1 };
    expect(fromEventItem(toEventItem(event))).toEqual(event);
  });

  it('stores and reads back a reservation with its shard takes', () => {
    const hold = { reservationId: 'res_x', buyerId: 'b', quantity: 3, requestFingerprint: 'f', createdAt: 1, expiresAt: 2, deadline: 3, repairAt: 4 };
    const item = toReservationItem('evt_x', hold, [
      { shard: 4, quantity: 1 },
      { shard: 1, quantity: 2 },
    ]);
    expect(item.takes).toEqual({ '4': 1, '1': 2 });
    expect(fromReservationItem(item)).toMatchObject({
      status: 'HELD',
      takes: [
        { shard: 1, quantity: 2 },
        { shard: 4, quantity: 1 },
      ],
    });
  });
});

describe('ids', () => {
  it('derives the same reservation id from the same buyer and Idempotency-Key, and different ids otherwise', () => {
    expect(reservationIdForKey('alice', 'k-1')).toBe(reservationIdForKey('alice', 'k-1'));
    expect(reservationIdForKey('alice', 'k-1')).not.toBe(reservationIdForKey('alice', 'k-2'));
    // Keys are scoped to their buyer: the same key from two buyers is two requests.
    expect(reservationIdForKey('alice', 'k-1')).not.toBe(reservationIdForKey('bob', 'k-1'));
    expect(v.is(reservationIdParameter, reservationIdForKey('alice', 'k-1'))).toBe(true);
  });

  it('makes ids the path schemas accept, and the schemas accept only well-formed ids', () => {
    expect(v.is(eventIdParameter, newEventId())).toBe(true);
    expect(v.is(reservationIdParameter, newReservationId())).toBe(true);
    expect(v.is(eventIdParameter, 'evt_short')).toBe(false);
    expect(v.is(eventIdParameter, 'EVENT#x#SHARD#0')).toBe(false);
    expect(v.is(reservationIdParameter, newEventId())).toBe(false);
  });

  it('fingerprints the event, buyer and quantity of a request', () => {
    const base = requestFingerprint('evt_1', 'alice', 2);
    expect(requestFingerprint('evt_1', 'alice', 2)).toBe(base);
    expect(new Set([base, requestFingerprint('evt_2', 'alice', 2), requestFingerprint('evt_1', 'bob', 2), requestFingerprint('evt_1', 'alice', 3)]).size).toBe(
      4,
    );
  });
});
