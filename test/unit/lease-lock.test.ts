import { describe, expect, it } from 'vitest';
import { inventoryKey } from '../../functions/data/items/inventory-item';
import { acquireLock, fromLockItem, heartbeatLock, type Lease, lockKey, releaseLock } from '../../functions/data/items/lock-item';
import { commitUnderLock } from '../../functions/data/strategies/pessimistic';

const lease: Lease = { eventId: 'evt_1', owner: 'process-a', fencingToken: 7, leaseDurationMs: 2_000 };

interface Expression {
  readonly UpdateExpression?: string;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

/** DynamoDB refuses a request whose expressions use a placeholder it does not define, or define one they do not use. */
function expectPlaceholdersToMatch(expression: Expression) {
  const text = `${expression.UpdateExpression ?? ''} ${expression.ConditionExpression ?? ''}`;
  const used = (prefix: string) => [...new Set(text.match(new RegExp(`${prefix}[A-Za-z]+`, 'g')) ?? [])].sort();
  expect(used('#')).toEqual(Object.keys(expression.ExpressionAttributeNames ?? {}).sort());
  expect(used(':')).toEqual(Object.keys(expression.ExpressionAttributeValues ?? {}).sort());
}

describe('the lock item', () => {
  it('has one key per event, apart from the event and its inventory', () => {
    expect(lockKey('evt_1')).toEqual({ pk: 'EVENT#evt_1#LOCK', sk: 'LOCK' });
    expect(lockKey('evt_1').pk).not.toBe(inventoryKey('evt_1', 0).pk);
  });

  it('takes a free lock, with a new record version, the lease and the next fencing token', () => {
    const acquire = acquireLock('t', 'evt_1', { owner: 'process-a', recordVersion: 'rv-1', leaseDurationMs: 2_000 });
    expect(acquire.Key).toEqual(lockKey('evt_1'));
    expect(acquire.ConditionExpression).toBe('attribute_not_exists(#owner)');
    expect(acquire.UpdateExpression).toMatch(/ADD #token :one$/);
    expect(acquire.ExpressionAttributeValues).toMatchObject({ ':owner': 'process-a', ':recordVersion': 'rv-1', ':lease': 2_000, ':one': 1 });
    expect(acquire.ReturnValues).toBe('UPDATED_NEW');
    expectPlaceholdersToMatch(acquire);
  });

  it('takes over a stale lock only while it is still the version that was watched', () => {
    const takeOver = acquireLock('t', 'evt_1', { owner: 'process-b', recordVersion: 'rv-2', leaseDurationMs: 2_000, staleVersion: 'rv-1' });
    expect(takeOver.ConditionExpression).toBe('#recordVersion = :stale');
    expect(takeOver.ExpressionAttributeValues[':stale']).toBe('rv-1');
    expectPlaceholdersToMatch(takeOver);
  });

  it('heartbeats and releases only while owner and fencing token are still the holder’s', () => {
    const heartbeat = heartbeatLock('t', lease, 'rv-3');
    const release = releaseLock('t', lease);
    for (const update of [heartbeat, release]) {
      expect(update.ConditionExpression).toBe('#owner = :owner AND #token = :token');
      expect(update.ExpressionAttributeValues).toMatchObject({ ':owner': 'process-a', ':token': 7 });
      expectPlaceholdersToMatch(update);
    }
    expect(heartbeat.UpdateExpression).toBe('SET #recordVersion = :recordVersion');
    expect(release.UpdateExpression).toBe('REMOVE #owner');
  });

  it('reads a free lock as having no owner', () => {
    expect(fromLockItem({ ...lockKey('evt_1'), recordVersion: 'rv-1', leaseDurationMs: 2_000, fencingToken: 4 })).toEqual({
      owner: undefined,
      recordVersion: 'rv-1',
      leaseDurationMs: 2_000,
      fencingToken: 4,
    });
  });
});

describe('the pessimistic hold transaction', () => {
  const request = { reservationId: 'res_1', buyerId: 'bob', quantity: 2, requestFingerprint: 'f', createdAt: 1, expiresAt: 2, deadline: 3, repairAt: 4 };

  it('releases the lock as its fencing check, and writes what was decided only over what was read', () => {
    const { items, reservation } = commitUnderLock('t', lease, request, { available: 10, version: 41, tickets: 3 });
    const [lock, inventory, put, tally] = items;
    expect(lock!.Update).toEqual(releaseLock('t', lease));
    expect(inventory!.Update).toMatchObject({ ConditionExpression: '#version = :seen', ExpressionAttributeValues: { ':available': 8, ':seen': 41 } });
    expect(put!.Put).toMatchObject({ ConditionExpression: 'attribute_not_exists(#pk)', Item: { status: 'HELD', takes: { 0: 2 } } });
    expect(tally!.Update).toMatchObject({ ConditionExpression: '#tickets = :seen', ExpressionAttributeValues: { ':tickets': 5, ':seen': 3 } });
    for (const update of [inventory!.Update!, tally!.Update!]) expectPlaceholdersToMatch(update);
    expect(reservation).toMatchObject({ reservationId: 'res_1', status: 'HELD', quantity: 2, takes: [{ shard: 0, quantity: 2 }] });
  });

  it("creates a buyer's first tally only if nobody created it meanwhile", () => {
    const tally = commitUnderLock('t', lease, request, { available: 10, version: 0 }).items[3]!.Update!;
    expect(tally.ConditionExpression).toBe('attribute_not_exists(#tickets)');
    expect(tally.ExpressionAttributeValues).toMatchObject({ ':tickets': 2 });
    expectPlaceholdersToMatch(tally);
  });
});
