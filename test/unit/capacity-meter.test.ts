import { describe, expect, it } from 'vitest';
import { CapacityMeter, outcomeKey } from '../../local/capacity-meter';
import { countedCost, itemSize, keyKind, operationName, writeUnits } from '../../local/capacity-units';

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
    expect(snapshot.totals).toEqual({ readUnits: 2, writeUnits: 12, consumedReadUnits: 0, consumedWriteUnits: 4 });
    expect(snapshot.timeline).toEqual([
      { second: 0, answers: { 'ReserveTickets 201': 1 }, writes: { 'ReserveTickets 201': 1 } },
      { second: 1, answers: { 'ReserveTickets 409 sold_out': 1 }, writes: { 'ReserveTickets 409 sold_out': 1 } },
    ]);
    expect(snapshot.inFlight).toBe(0);
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

  it('counts nothing and leaves requests untouched while paused, then counts again', async () => {
    const meter = new CapacityMeter();
    const send = meteredClient(meter);
    meter.pause();
    const input: Record<string, unknown> = { Key: { pk: 'a' } };
    await meter.observe('GetEvent', async () => {
      await send('GetCommand', input, { output: {} });
      return { statusCode: 200 };
    });
    expect(input.ReturnConsumedCapacity).toBeUndefined();
    expect(meter.snapshot()).toMatchObject({ operations: {}, outcomes: {}, timeline: [] });
    meter.resume();
    await meter.observe('GetEvent', async () => {
      await send('GetCommand', { Key: { pk: 'a' } }, { output: {} });
      return { statusCode: 200 };
    });
    expect(meter.snapshot().outcomes['GetEvent 200']).toMatchObject({ requests: 1, reads: 1 });
  });

  it('names an answer by route, status and error code', () => {
    expect(outcomeKey('ReserveTickets', 201, '{"reservationId":"r"}')).toBe('ReserveTickets 201');
    expect(outcomeKey('ReserveTickets', 503, '{"error":"contention","message":"x"}')).toBe('ReserveTickets 503 contention');
    expect(outcomeKey('ReserveTickets', 500, undefined)).toBe('ReserveTickets 500');
  });
});
