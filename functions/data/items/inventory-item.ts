import { createHash } from 'node:crypto';
import { inventoryItemsOf, queueReturnBins, type ShardTake, type TicketEvent } from '../../domain/model';

/**
 * One inventory shard of an event. Item: pk `EVENT#<eventId>#SHARD#<n>`, sk `INVENTORY`.
 * Each shard has its own partition key, so shards spread the write load over partitions
 * (one partition takes at most 1,000 WCU/s:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html).
 *
 * `available` is what can still be sold from this shard; `allocated` is its share of the
 * capacity (for the audit); `version` increases on every write, which the optimistic
 * strategy relies on, so every inventory write here bumps it.
 */
const inventoryItemType = 'Inventory';

export interface InventoryShard {
  readonly shard: number;
  readonly allocated: number;
  readonly available: number;
  readonly version: number;
}

export function inventoryKey(eventId: string, shard: number) {
  return { pk: `EVENT#${eventId}#SHARD#${shard}`, sk: 'INVENTORY' };
}

export function toInventoryItem(eventId: string, shard: number, allocated: number) {
  return { ...inventoryKey(eventId, shard), type: inventoryItemType, eventId, shard, allocated, available: allocated, version: 0 };
}

export function fromInventoryItem(item: Record<string, unknown>): InventoryShard {
  return {
    shard: Number(item.shard),
    allocated: Number(item.allocated),
    available: Number(item.available),
    version: Number(item.version),
  };
}

/** Split `capacity` over `shards` as evenly as possible: the first `capacity % shards` get one more. */
export function allocateCapacity(capacity: number, shards: number): number[] {
  const base = Math.floor(capacity / shards);
  const extra = capacity % shards;
  return Array.from({ length: shards }, (_, shard) => base + (shard < extra ? 1 : 0));
}

/** What each inventory item holds when the event is created: `queued` has all of it in its stock (item 0), its return bins empty. */
export function initialAllocation(event: Pick<TicketEvent, 'strategy' | 'shards' | 'capacity'>): number[] {
  if (event.strategy !== 'queued') return allocateCapacity(event.capacity, inventoryItemsOf(event));
  return [event.capacity, ...Array.from({ length: queueReturnBins }, () => 0)];
}

/** `queued`: the return bin (1..queueReturnBins) a hold's tickets go back to, spread by its reservation id. */
export function returnBinOf(reservationId: string): number {
  return 1 + (createHash('sha256').update(reservationId).digest().readUInt32BE(4) % queueReturnBins);
}

const names = { '#available': 'available', '#version': 'version' };

/** Take tickets from a shard only if it still has them: the rule that prevents overselling. */
export function takeFromShard(tableName: string, eventId: string, take: ShardTake) {
  return {
    TableName: tableName,
    Key: inventoryKey(eventId, take.shard),
    UpdateExpression: 'SET #available = #available - :take ADD #version :one',
    ConditionExpression: '#available >= :take',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ':take': take.quantity, ':one': 1 },
  };
}

/** Put tickets back (release, expiry, or undoing a step that could not complete). */
export function returnToShard(tableName: string, eventId: string, take: ShardTake) {
  return {
    TableName: tableName,
    Key: inventoryKey(eventId, take.shard),
    UpdateExpression: 'ADD #available :take, #version :one',
    ConditionExpression: 'attribute_exists(#available)',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ':take': take.quantity, ':one': 1 },
  };
}

/**
 * THE UNSAFE CONTROL'S WRITE: store a count computed in code from an earlier read, with no
 * condition. Whoever writes last wins, so concurrent buyers oversell. Only `unsafe` uses it.
 */
export function overwriteAvailable(tableName: string, eventId: string, available: number) {
  return {
    TableName: tableName,
    Key: inventoryKey(eventId, 0),
    UpdateExpression: 'SET #available = :available ADD #version :one',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ':available': available, ':one': 1 },
  };
}
