import { createHash } from 'node:crypto';

/**
 * The sweep index: a sparse GSI over the reservations that may need the sweeper, keyed so the
 * sweeper finds what is due without scanning the table, and so its writes never pile onto one
 * partition. Only a HELD or PENDING reservation carries the two attributes (every transition out
 * of those removes them), so the index holds exactly the work that may come due.
 *
 * - partition key `sweepShard`: `SWEEP#<n>`, n = a hash of the reservation id modulo
 *   `sweepShardCount`. A GSI partition takes 1,000 WCU/s like a table's, and a throttled GSI
 *   throttles the base table's writes: keyed by event (or by status) the index would cap an
 *   event's hold rate at one partition's. Spread by reservation id, every event's holds land on
 *   all shards: `sweepShardCount` × 1,000 WCU/s for the whole table.
 * - sort key `sweepAt`: when the sweeper should look (a HELD hold's `expiresAt`; for a PENDING
 *   one, the moment its hold has certainly stopped: see HoldRequest.repairAt).
 *
 * KEYS_ONLY: the sweeper reads the reservation itself (strongly consistent) before acting, so
 * the index items stay small (1 WCU each) and never need to be fresh.
 */
export const sweepIndex = {
  name: 'sweep',
  partitionKey: { name: 'sweepShard', type: 'S' },
  sortKey: { name: 'sweepAt', type: 'N' },
  projection: 'KEYS_ONLY',
} as const;

/**
 * 512 shards: a hold writes its shard twice (in, then out when it is confirmed, released or
 * expired), a stepwise or queued one twice more (its sort key changes once), and `queued` twice
 * per request it turns down; every shard takes 1,000 WCU/s, so the bound grows with the count
 * (measured per key in `npm run bench`; docs/design.md, "Ceilings on AWS"). With 128, `queued`
 * was bounded at 13,000–23,000 holds/s for the whole table, below the stock's own ceiling. The
 * price is a query per shard per sweep: 512 a minute on AWS, cents a month; the local sweeper
 * looks every few seconds and skips the shards it knows have nothing due yet
 * (DynamoSweepRepository). Growing the count is safe (an entry stays on the shard it was written
 * to, and the sweeper queries them all); shrinking it strands the entries of shards that no
 * longer exist: drain them first.
 */
const sweepShardCount = 512;

export function sweepShardOf(reservationId: string): string {
  const hash = createHash('sha256').update(reservationId).digest().readUInt32BE(0);
  return `SWEEP#${hash % sweepShardCount}`;
}

export const allSweepShards: readonly string[] = Array.from({ length: sweepShardCount }, (_, shard) => `SWEEP#${shard}`);

/**
 * One shard's entries, soonest due first, with no upper bound: the caller reads what is due and
 * stops at the first entry that is not, which says when the shard has something due next.
 */
export function soonestInShard(tableName: string, shard: string, pageSize: number, startKey?: Record<string, unknown>) {
  return {
    TableName: tableName,
    IndexName: sweepIndex.name,
    KeyConditionExpression: '#shard = :shard',
    ExpressionAttributeNames: { '#shard': sweepIndex.partitionKey.name },
    ExpressionAttributeValues: { ':shard': shard },
    Limit: pageSize,
    ExclusiveStartKey: startKey,
  };
}
