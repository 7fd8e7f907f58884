import { createHash } from 'node:crypto';
import type { HoldRequest } from '../../domain/model';
import type { QueuedRequest } from '../../domain/ports';

/**
 * A request in a `queued` event's ordered log. Item: pk `QUEUE#<eventId>#<k>`, sk
 * `<createdAt, 13 digits>#<reservationId>`: the log is the table itself, read in order through
 * its stream (DynamoDB Streams keep the order of writes per partition key). An event's log is
 * spread over `event.shards` keys, k = a hash of the reservation id: one key takes at most
 * 1,000 WCU/s (about 500 requests/s, each written in a transaction), so order is exact within a
 * key and approximate across keys (see docs/design.md). Written once, in one transaction with
 * the reservation; the consumer (functions/handlers/decide-queued.ts) never writes it again, and
 * TTL removes it a day later.
 */
const queueEntryItemType = 'QueueEntry';

/** A log entry outlives any decision by far: the stream keeps records for 24 hours. */
const queueEntryRetentionSeconds = 24 * 3600;

function logKeyOf(reservationId: string, logKeys: number): number {
  return createHash('sha256').update(reservationId).digest().readUInt32BE(0) % logKeys;
}

function queueEntryKey(eventId: string, logKey: number, createdAt: number, reservationId: string) {
  return { pk: `QUEUE#${eventId}#${logKey}`, sk: `${String(createdAt).padStart(13, '0')}#${reservationId}` };
}

export function toQueueEntryItem(eventId: string, logKeys: number, hold: HoldRequest) {
  return {
    ...queueEntryKey(eventId, logKeyOf(hold.reservationId, logKeys), hold.createdAt, hold.reservationId),
    type: queueEntryItemType,
    eventId,
    reservationId: hold.reservationId,
    buyerId: hold.buyerId,
    quantity: hold.quantity,
    createdAt: hold.createdAt,
    ttl: Math.floor(hold.createdAt / 1000) + queueEntryRetentionSeconds,
  };
}

/** From an item (a stream record's new image, unmarshalled); undefined if it is not a log entry. */
export function fromQueueEntryItem(item: Record<string, unknown>): QueuedRequest | undefined {
  if (item.type !== queueEntryItemType || typeof item.pk !== 'string' || !item.pk.startsWith('QUEUE#')) return undefined;
  const quantity = Number(item.quantity);
  if (typeof item.reservationId !== 'string' || typeof item.eventId !== 'string' || !Number.isInteger(quantity) || quantity < 1) return undefined;
  return { eventId: item.eventId, reservationId: item.reservationId, buyerId: String(item.buyerId), quantity, createdAt: Number(item.createdAt) };
}

/**
 * What a stream consumer's filter keeps: log entries, as written (the same rule for Lambda's event
 * source mapping and the local poller). DynamoDB mappings filter on the `dynamodb` key only
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html), so "new" is said with
 * the new image: an entry is written once and never modified, and its TTL removal has no new image.
 */
export const queueEntryFilter = {
  dynamodb: { Keys: { pk: { S: [{ prefix: 'QUEUE#' }] } }, NewImage: { type: { S: [queueEntryItemType] } } },
} as const;
