import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { readInventory } from '../../functions/data/inventory/inventory-reads';
import { InventorySnapshots } from '../../functions/data/inventory/inventory-snapshots';
import { InventoryViews } from '../../functions/data/inventory/inventory-view';
import { Retrier } from '../../functions/data/retrier';
import { ShardedStrategy } from '../../functions/data/strategies/sharded';
import type { StrategyDeps } from '../../functions/data/strategies/strategy-deps';
import { TransactionalStrategy } from '../../functions/data/strategies/transactional';
import { BuyerLimitExceeded, Contention, SoldOut, ThroughputExceeded } from '../../functions/domain/errors';
import type { HoldRequest, TicketEvent } from '../../functions/domain/model';
import { InMemoryTelemetry } from '../../functions/observability/telemetry';
import { sdkError } from '../support/faults';

// DynamoDB Local never cancels a transaction for a conflict or throttling: these paths are
// driven here with a mocked client, decision by decision.
const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }));
const dynamo = mockClient(db);

const hold: HoldRequest = {
  reservationId: 'res_r',
  buyerId: 'alice',
  quantity: 1,
  requestFingerprint: 'f',
  createdAt: 0,
  expiresAt: 60_000,
  deadline: Number.POSITIVE_INFINITY,
  repairAt: Number.POSITIVE_INFINITY,
};
const event = (strategy: 'sharded' | 'transactional', shards: number): TicketEvent => ({
  eventId: 'evt_e',
  name: 'n',
  capacity: 100,
  strategy,
  shards,
  holdSeconds: 60,
  maxPerBuyer: 10,
  createdAt: 0,
});

function deps(sleeps: number[] = []) {
  const retrier = new Retrier(
    { maxAttempts: 4, baseDelayMs: 8, maxDelayMs: 100 },
    async (ms) => void sleeps.push(ms),
    () => 0.5,
  );
  const telemetry = new InMemoryTelemetry();
  const value: StrategyDeps = {
    db,
    tableName: 't',
    maxTransactionItems: 100,
    retrier,
    random: () => 0,
    telemetry,
    views: new InventoryViews(),
    snapshots: new InventorySnapshots(async (e) => (await readInventory(db, 't', e, { retrier, maxTransactionItems: 100 })).map((s) => s.available)),
    soldOutStalenessMs: 0,
  };
  return { deps: value, telemetry, sleeps };
}

const shardItem = (shard: number, available: number) => ({ pk: `EVENT#evt_e#SHARD#${shard}`, sk: 'INVENTORY', shard, allocated: 50, available, version: 1 });
const cancelled = (...reasons: { Code: string; Item?: Record<string, unknown> }[]) =>
  sdkError('TransactionCanceledException', {
    CancellationReasons: reasons.map((r) => ({ Code: r.Code, ...(r.Item ? { Item: marshall(r.Item) } : {}) })),
  });
const none = { Code: 'None' };
const conflict = { Code: 'TransactionConflict' };

beforeEach(() => dynamo.reset());

describe('transactional strategy', () => {
  beforeEach(() => dynamo.on(GetCommand).resolves({ Item: shardItem(0, 100) }));

  it('backs off and retries cancelled transactions (TransactionConflict), then holds', async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled(conflict, none, none))
      .rejectsOnce(cancelled(none, none, conflict))
      .resolves({});
    const { deps: d, telemetry, sleeps } = deps();
    const outcome = await new TransactionalStrategy(d).hold(event('transactional', 1), hold);
    expect(outcome.kind).toBe('created');
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(3);
    expect(sleeps).toEqual([4, 8]);
    expect(telemetry.snapshot()).toMatchObject({ 'transactional.Conflict': 2, 'transactional.Retry': 2 });
  });

  it('gives up after the policy with 503 contention, or throughput_exceeded when throttled', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled(conflict, none, none));
    await expect(new TransactionalStrategy(deps().deps).hold(event('transactional', 1), hold)).rejects.toBeInstanceOf(Contention);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(4);

    dynamo.on(TransactWriteCommand).rejects(sdkError('ProvisionedThroughputExceededException'));
    await expect(new TransactionalStrategy(deps().deps).hold(event('transactional', 1), hold)).rejects.toBeInstanceOf(ThroughputExceeded);
  });

  it('turns each cancellation reason into the matching domain answer', async () => {
    const strategy = () => new TransactionalStrategy(deps().deps);
    dynamo.on(TransactWriteCommand).rejects(cancelled({ Code: 'ConditionalCheckFailed', Item: shardItem(0, 0) }, none, none));
    await expect(strategy().hold(event('transactional', 1), hold)).rejects.toEqual(new SoldOut(1, 0));

    dynamo.on(TransactWriteCommand).rejects(cancelled(none, none, { Code: 'ConditionalCheckFailed', Item: { tickets: 10 } }));
    await expect(strategy().hold(event('transactional', 1), hold)).rejects.toEqual(new BuyerLimitExceeded(10, 10));

    const original = {
      pk: 'RESERVATION#res_r',
      sk: 'RESERVATION',
      reservationId: 'res_r',
      eventId: 'evt_e',
      buyerId: 'alice',
      quantity: 1,
      status: 'HELD',
      createdAt: 0,
      expiresAt: 60_000,
      takes: { '0': 1 },
      requestFingerprint: 'f',
    };
    dynamo.on(TransactWriteCommand).rejects(cancelled(conflict, { Code: 'ConditionalCheckFailed', Item: original }, none));
    await expect(strategy().hold(event('transactional', 1), hold)).resolves.toMatchObject({ kind: 'existing', reservation: { reservationId: 'res_r' } });
  });

  it('refuses a sold-out event from a read, without writing', async () => {
    dynamo.on(GetCommand).resolves({ Item: shardItem(0, 0) });
    const { deps: d, telemetry } = deps();
    await expect(new TransactionalStrategy(d).hold(event('transactional', 1), hold)).rejects.toBeInstanceOf(SoldOut);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(telemetry.snapshot()).toEqual({ 'transactional.SoldOutWithoutWrite': 1 });
  });
});

describe('sharded strategy', () => {
  const snapshot = (...available: number[]) => ({ Responses: available.map((count, shard) => ({ Item: shardItem(shard, count) })) });

  it('moves to another shard when the chosen one turns out empty, without backing off', async () => {
    dynamo.on(TransactGetCommand).resolves(snapshot(5, 5, 5, 5));
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled({ Code: 'ConditionalCheckFailed', Item: shardItem(0, 0) }, none, none))
      .resolves({});
    const { deps: d, sleeps, telemetry } = deps();
    const outcome = await new ShardedStrategy(d).hold(event('sharded', 4), hold);
    expect(outcome).toMatchObject({ kind: 'created', reservation: { takes: [{ shard: 1, quantity: 1 }] } });
    const shardsTried = dynamo.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems![0]!.Update!.Key!.pk);
    expect(shardsTried).toEqual(['EVENT#evt_e#SHARD#0', 'EVENT#evt_e#SHARD#1']);
    expect(sleeps).toEqual([]);
    expect(telemetry.snapshot()).toMatchObject({ 'sharded.ShardMiss': 1 });
  });

  it('takes from several shards in one transaction when no single shard has enough', async () => {
    dynamo.on(TransactGetCommand).resolves(snapshot(1, 0, 2, 1));
    dynamo.on(TransactWriteCommand).resolves({});
    const outcome = await new ShardedStrategy(deps().deps).hold(event('sharded', 4), { ...hold, quantity: 4 });
    expect(outcome).toMatchObject({ kind: 'created', reservation: { quantity: 4 } });
    const items = dynamo.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items.map((item) => (item.Update ?? item.Put)!.TableName)).toHaveLength(5); // 3 shards + reservation + tally
    expect(items.slice(0, 3).map((item) => item.Update!.ExpressionAttributeValues![':take'])).toEqual([2, 1, 1]);
  });

  it('refuses only when the shards together have too few, and then without writing', async () => {
    dynamo.on(TransactGetCommand).resolves(snapshot(1, 0, 1, 0));
    await expect(new ShardedStrategy(deps().deps).hold(event('sharded', 4), { ...hold, quantity: 3 })).rejects.toEqual(new SoldOut(3, 2));
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});
