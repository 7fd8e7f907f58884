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
 * 128 shards: a hold writes its shard twice (in, then out when it is confirmed, released or
 * expired), a stepwise or queued one twice more (its sort key changes once), and `queued` twice
 * per request it turns down. Measured per key, the index takes ~35,000–50,000 `sharded` holds/s
 * and 13,000–23,000 `queued` holds/s across the table before a partition reaches 1,000 WCU/s
 * (docs/design.md, "Ceilings on AWS"), and the sweeper's 128 empty queries a minute cost cents a
 * month. More shards raise the first in proportion and cost a query each per sweep. Growing the
 * count is safe; shrinking it strands the entries of shards that no longer exist: drain them first.
 */
const sweepShardCount = 128;

export function sweepShardOf(reservationId: string): string {
  const hash = createHash('sha256').update(reservationId).digest().readUInt32BE(0);
  return `SWEEP#${hash % sweepShardCount}`;
}

export const allSweepShards: readonly string[] = Array.from({ length: sweepShardCount }, (_, shard) => `SWEEP#${shard}`);

/** Reservations of one shard due at `now`, oldest first. */
export function dueInShard(tableName: string, shard: string, now: number, pageSize: number, startKey?: Record<string, unknown>) {
  return {
    TableName: tableName,
    IndexName: sweepIndex.name,
    KeyConditionExpression: '#shard = :shard AND #at <= :now',
    ExpressionAttributeNames: { '#shard': sweepIndex.partitionKey.name, '#at': sweepIndex.sortKey.name },
    ExpressionAttributeValues: { ':shard': shard, ':now': now },
    Limit: pageSize,
    ExclusiveStartKey: startKey,
  };
}
