import { describe, expect, it } from 'vitest';
import {
  confirmHold,
  decideHeld,
  deletePendingHold,
  finishHold,
  markHeld,
  markTallied,
  putNewReservation,
  toPendingReservationItem,
  toReservationItem,
} from '../../functions/data/items/reservation-item';
import { sweepShardOf } from '../../functions/data/sweep-index';
import { CapacityMeter, outcomeKey } from '../../local/capacity-meter';
import { countedCost, countedIndexWrites, itemSize, keyKind, operationName, sweepIndexKey, writeUnits } from '../../local/capacity-units';

describe('capacity counted with AWS rules', () => {
  it('charges a transaction 2 units per item, attributed to each partition key', () => {
    const cost = countedCost('TransactWriteCommand', {
      TransactItems: [
        { Update: { Key: { pk: 'EVENT#e1#SHARD#3', sk: 'INVENTORY' } } },
        { Put: { Item: { pk: 'RESERVATION#r1', sk: 'RESERVATION', status: 'HELD' } } },
        { Update: { Key: { pk: 'EVENT#e1#BUYER#b1', sk: 'TALLY' } } },
      ],
    });
    expect(cost).toEqual([
      { pk: 'EVENT#e1#SHARD#3', access: 'write', units: 2 },
      { pk: 'RESERVATION#r1', access: 'write', units: 2 },
      { pk: 'EVENT#e1#BUYER#b1', access: 'write', units: 2 },
    ]);
  });

  it('charges reads by consistency: 1 strongly consistent, 0.5 eventually, 2 in a transaction', () => {
    expect(countedCost('GetCommand', { Key: { pk: 'a' }, ConsistentRead: true })).toEqual([{ pk: 'a', access: 'read', units: 1 }]);
    expect(countedCost('GetItemCommand', { Key: { pk: { S: 'a' } } })).toEqual([{ pk: 'a', access: 'read', units: 0.5 }]);
    expect(countedCost('TransactGetCommand', { TransactItems: [{ Get: { Key: { pk: 's0' } } }, { Get: { Key: { pk: 's1' } } }] })).toEqual([
      { pk: 's0', access: 'read', units: 2 },
      { pk: 's1', access: 'read', units: 2 },
    ]);
    expect(countedCost('BatchGetCommand', { RequestItems: { t: { Keys: [{ pk: 'x' }, { pk: 'y' }], ConsistentRead: true } } })).toHaveLength(2);
  });

  it('sizes a Put by its item: a write unit per started KB', () => {
    expect(countedCost('PutCommand', { Item: { pk: 'big', blob: 'x'.repeat(1_500) } })).toEqual([{ pk: 'big', access: 'write', units: 2 }]);
    expect(writeUnits(0)).toBe(1);
    expect(writeUnits(1_024)).toBe(1);
    expect(writeUnits(1_025)).toBe(2);
    expect(itemSize({ pk: 'abc', n: 12_345, m: { a: 'b' } })).toBe(2 + 3 + 1 + 4 + 1 + (3 + 1 + 1 + 1));
  });

  it('counts batch writes item by item and leaves Query/Scan to ConsumedCapacity', () => {
    expect(countedCost('BatchWriteCommand', { RequestItems: { t: [{ PutRequest: { Item: { pk: 'a' } } }, { DeleteRequest: { Key: { pk: 'b' } } }] } })).toEqual(
      [
        { pk: 'a', access: 'write', units: 1 },
        { pk: 'b', access: 'write', units: 1 },
      ],
    );
    expect(countedCost('ScanCommand', {})).toEqual([]);
  });

  it('names operations and key kinds the same for the document and the low-level client', () => {
    expect(operationName('TransactWriteCommand')).toBe('TransactWriteItems');
    expect(operationName('TransactWriteItemsCommand')).toBe('TransactWriteItems');
    expect(keyKind('EVENT#e1#SHARD#3')).toBe('EVENT#SHARD');
    expect(keyKind('RESERVATION#r1')).toBe('RESERVATION');
  });
});

type Middleware = (
  next: (args: { input: Record<string, unknown> }) => Promise<{ output: unknown }>,
  context: { commandName: string },
) => (args: { input: Record<string, unknown> }) => Promise<{ output: unknown }>;

function meteredClient(meter: CapacityMeter) {
  let middleware: Middleware | undefined;
  meter.install({ middlewareStack: { add: (m: Middleware) => (middleware = m) } } as never);
  return async (commandName: string, input: Record<string, unknown>, result: { output?: unknown; error?: Error }) => {
    const next = async () => {
      if (result.error) throw result.error;
      return { output: result.output ?? {} };
    };
    return middleware!(next, { commandName })({ input });
  };
}

describe('sweep index writes counted with AWS rules', () => {
  const hold = {
    reservationId: 'r1',
    buyerId: 'b1',
    quantity: 1,
    requestFingerprint: 'f',
    idempotencyKey: 'k',
    createdAt: 1_000,
    expiresAt: 61_000,
    deadline: 7_000,
    repairAt: 20_000,
  };
  const key = sweepIndexKey(sweepShardOf('r1'));
  const indexWrites = (command: string, input: Record<string, unknown>) => countedIndexWrites(command, input);

  it("charges each reservation's entry on the index key of its shard: 1 to add or remove it, 2 to move it", () => {
    // A hold made at once: in (1), then out when confirmed, released or expired (1).
    expect(indexWrites('PutCommand', putNewReservation('t', toReservationItem('e1', hold, [{ shard: 0, quantity: 1 }])))).toEqual([
      { pk: key, access: 'write', units: 1 },
    ]);
    expect(indexWrites('UpdateCommand', confirmHold('t', 'r1', 'b1', 2_000))).toEqual([{ pk: key, access: 'write', units: 1 }]);
    expect(indexWrites('UpdateCommand', finishHold('t', 'r1', { outcome: 'EXPIRED' }, 62_000))).toEqual([{ pk: key, access: 'write', units: 1 }]);
    // A stepwise hold: PENDING in (1), its stage marked (0), HELD moves its sort key to expiresAt (2), or its claim undone (1).
    const claim = { reservationId: 'r1', claimId: 'c1' };
    expect(indexWrites('UpdateCommand', markTallied('t', claim))).toEqual([]);
    expect(indexWrites('UpdateCommand', markHeld('t', claim, 61_000))).toEqual([{ pk: key, access: 'write', units: 2 }]);
    expect(indexWrites('DeleteCommand', deletePendingHold('t', claim, 'tallied'))).toEqual([{ pk: key, access: 'write', units: 1 }]);
    // A queued request decided: its entry moves from the decision timeout to expiresAt.
    expect(indexWrites('UpdateCommand', decideHeld('t', 'r1', 1, 2_000, 61_000))).toEqual([{ pk: key, access: 'write', units: 2 }]);
  });

  it('charges a transaction only for the items that carry an entry, not doubled, and nothing for other items', () => {
    const take = { Update: { Key: { pk: 'EVENT#e1#SHARD#0', sk: 'INVENTORY' }, UpdateExpression: 'SET available = available - :q' } };
    const put = { Put: putNewReservation('t', toPendingReservationItem('e1', hold, [{ shard: 0, quantity: 1 }])) };
    expect(indexWrites('TransactWriteCommand', { TransactItems: [take, put] })).toEqual([{ pk: key, access: 'write', units: 1 }]);
    expect(indexWrites('UpdateCommand', take.Update)).toEqual([]);
    expect(indexWrites('DeleteCommand', { Key: { pk: 'EVENT#e1#BUYER#b1' } })).toEqual([]);
  });
});

describe('the capacity meter', () => {
  it('attributes DynamoDB calls to the API answer they served, and failed conditional writes still cost', async () => {
    let now = 1_000;
    const meter = new CapacityMeter(() => now);
    const send = meteredClient(meter);
    const update = {
      TransactItems: [
        { Update: { Key: { pk: 'EVENT#e#SHARD#0' } } },
        { Put: { Item: { pk: 'RESERVATION#r' } } },
        { Update: { Key: { pk: 'EVENT#e#BUYER#b' } } },
      ],
    };

    await meter.observe('ReserveTickets', async () => {
      await send('TransactWriteCommand', { ...update }, { output: { ConsumedCapacity: [{ TableName: 't', CapacityUnits: 4 }] } });
      return { statusCode: 201, body: '{}' };
    });
    now = 2_500;
    await meter.observe('ReserveTickets', async () => {
      await send('TransactWriteCommand', { ...update }, { error: new Error('TransactionCanceledException') }).catch(() => undefined);
      await send('TransactGetCommand', { TransactItems: [{ Get: { Key: { pk: 'EVENT#e#SHARD#0' } } }] }, { output: {} });
      return { statusCode: 409, body: '{"error":"sold_out","message":"Sold out."}' };
    });

    const snapshot = meter.snapshot();
    expect(snapshot.outcomes['ReserveTickets 201']).toEqual({ requests: 1, reads: 0, writes: 1, readUnits: 0, writeUnits: 6 });
    expect(snapshot.outcomes['ReserveTickets 409 sold_out']).toEqual({ requests: 1, reads: 1, writes: 1, readUnits: 2, writeUnits: 6 });
    expect(snapshot.operations.TransactWriteItems).toMatchObject({ calls: 2, failed: 1, writeUnits: 12, consumedWriteUnits: 4 });
    expect(snapshot.hottestKeys[0]).toMatchObject({ pk: 'EVENT#e#SHARD#0', writes: 2, writeUnits: 4, failedWriteUnits: 2, reads: 1, readUnits: 2 });
    expect(snapshot.keyKinds['EVENT#SHARD']).toMatchObject({ keys: 1, writeUnits: 4 });
    expect(snapshot.totals).toEqual({ readUnits: 2, writeUnits: 12, consumedReadUnits: 0, consumedWriteUnits: 4, indexWriteUnits: 0 });
    expect(snapshot.timeline).toEqual([
      { second: 0, answers: { 'ReserveTickets 201': 1 }, writes: { 'ReserveTickets 201': 1 } },
      { second: 1, answers: { 'ReserveTickets 409 sold_out': 1 }, writes: { 'ReserveTickets 409 sold_out': 1 } },
    ]);
    expect(snapshot.inFlight).toBe(0);
  });

  it("lists one event's read keys when asked, however much other keys read", async () => {
    const meter = new CapacityMeter();
    const send = meteredClient(meter);
    for (let shard = 0; shard < 12; shard++) {
      for (let read = 0; read < 5; read++) await send('GetCommand', { Key: { pk: `EVENT#busy#SHARD#${shard}` }, ConsistentRead: true }, { output: {} });
    }
    await send('GetCommand', { Key: { pk: 'EVENT#probed#SHARD#0' } }, { output: {} });

    expect(meter.snapshot().hottestReadKeys.map((key) => key.pk)).not.toContain('EVENT#probed#SHARD#0');
    expect(meter.snapshot('EVENT#probed').hottestReadKeys).toEqual([expect.objectContaining({ pk: 'EVENT#probed#SHARD#0', readUnits: 0.5 })]);
  });

  it('counts sweep index writes apart from the table, for successful calls only', async () => {
    const meter = new CapacityMeter();
    const send = meteredClient(meter);
    const put = { Item: { pk: 'RESERVATION#r1', sk: 'RESERVATION', sweepShard: 'SWEEP#7', sweepAt: 5 } };

    await send('PutCommand', { ...put }, { output: {} });
    await send('PutCommand', { ...put }, { error: new Error('ConditionalCheckFailedException') }).catch(() => undefined);

    const snapshot = meter.snapshot();
    expect(snapshot.hottestIndexKeys).toEqual([expect.objectContaining({ pk: sweepIndexKey('SWEEP#7'), writes: 1, writeUnits: 1 })]);
    expect(snapshot.hottestKeys.map((k) => k.pk)).toEqual(['RESERVATION#r1']);
    expect(snapshot.totals.writeUnits).toBe(2);
    expect(snapshot.totals.indexWriteUnits).toBe(1); // apart from the table's, and priced on top of them
  });

  it('asks DynamoDB for its consumed capacity and starts over on reset', async () => {
    const meter = new CapacityMeter();
    const send = meteredClient(meter);
    const input: Record<string, unknown> = { Key: { pk: 'a' } };
    await send('GetCommand', input, { output: { ConsumedCapacity: { CapacityUnits: 0.5 } } });
    expect(input.ReturnConsumedCapacity).toBe('TOTAL');
    expect(meter.snapshot().operations.GetItem).toMatchObject({ calls: 1, readUnits: 0.5, consumedReadUnits: 0.5 });
    meter.reset();
    expect(meter.snapshot().operations).toEqual({});
  });

  it('counts nothing but the calls and leaves requests untouched while paused, then counts again', async () => {
    const meter = new CapacityMeter();
    const send = meteredClient(meter);
    meter.pause();
    const input: Record<string, unknown> = { Key: { pk: 'a' } };
    await meter.observe('GetEvent', async () => {
      await send('GetCommand', input, { output: {} });
      return { statusCode: 200 };
    });
    expect(input.ReturnConsumedCapacity).toBeUndefined();
    await send('QueryCommand', { KeyConditionExpression: 'x' }, { output: {} });
    expect(meter.snapshot()).toMatchObject({ operations: {}, outcomes: {}, timeline: [] });
    expect(meter.resume()).toEqual({ GetItem: 1, Query: 1 });
    await meter.observe('GetEvent', async () => {
      await send('GetCommand', { Key: { pk: 'a' } }, { output: {} });
      return { statusCode: 200 };
    });
    expect(meter.snapshot().outcomes['GetEvent 200']).toMatchObject({ requests: 1, reads: 1 });
    meter.pause();
    expect(meter.resume()).toEqual({});
  });

  it('names an answer by route, status and error code', () => {
    expect(outcomeKey('ReserveTickets', 201, '{"reservationId":"r"}')).toBe('ReserveTickets 201');
    expect(outcomeKey('ReserveTickets', 503, '{"error":"contention","message":"x"}')).toBe('ReserveTickets 503 contention');
    expect(outcomeKey('ReserveTickets', 500, undefined)).toBe('ReserveTickets 500');
  });
});
