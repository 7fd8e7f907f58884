import { type DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { StampedeConfig } from '../config';
import { type BuyerTally, buyerTallyItemType, fromBuyerTallyItem } from '../data/items/buyer-tally-item';
import { eventKey, fromEventItem } from '../data/items/event-item';
import { fromInventoryItem, type InventoryShard, inventoryKey } from '../data/items/inventory-item';
import { fromReservationItem, reservationItemType } from '../data/items/reservation-item';
import { inventoryItemsOf, type Reservation, type TicketEvent } from '../domain/model';

type ViolationKind =
  | 'oversold'
  | 'inventory_inflated'
  | 'lost_tickets'
  | 'shard_out_of_range'
  | 'shard_mismatch'
  | 'buyer_over_limit'
  | 'tally_mismatch'
  | 'double_hold'
  | 'pending_hold'
  | 'undecided_request'
  | 'unswept_expired_hold'
  | 'malformed_reservation';

interface Violation {
  readonly kind: ViolationKind;
  readonly message: string;
}

export interface AuditReport {
  readonly eventId: string;
  readonly strategy: string;
  readonly capacity: number;
  /** Tickets still in inventory. */
  readonly remaining: number;
  /** Tickets in live holds, and in expired holds not yet given back (they are still out). */
  readonly held: number;
  readonly heldExpired: number;
  readonly confirmed: number;
  /** Tickets that came back: in released reservations, and in expired ones. */
  readonly released: number;
  readonly expired: number;
  /** Tickets out of inventory in buyers' hands: held + confirmed. */
  readonly sold: number;
  /** Tickets handed out beyond what existed: held + confirmed - capacity, if > 0. */
  readonly oversold: number;
  /**
   * Tickets on the books that never existed besides those oversold: remaining + held + confirmed
   * exceeds capacity by this much more (a ticket given back twice; the control's lost updates).
   */
  readonly inflated: number;
  /** Tickets taken from inventory that no reservation accounts for. */
  readonly lost: number;
  readonly reservations: number;
  readonly buyers: number;
  readonly buyersOverLimit: number;
  readonly doubleHolds: number;
  /** Stepwise holds interrupted half-way and not repaired by their repair time (see stepwise-hold.ts). */
  readonly pending: number;
  /** PENDING reservations not yet due for repair: holds in their steps, or interrupted ones the sweeper will undo. */
  readonly pendingNotYetDue: number;
  /** HELD past expiry for longer than two sweep intervals: the sweeper did not return them. */
  readonly unsweptExpired: number;
  /** `queued`: tickets asked for by requests not decided yet (they count toward their buyer's limit), and requests turned down. */
  readonly queued: number;
  readonly rejected: number;
  /** QUEUED requests past their decision timeout: neither the consumer nor the sweeper decided them. */
  readonly undecided: number;
  readonly violations: readonly Violation[];
}

/**
 * Recompute an event's books from the table and check the invariants every safe strategy
 * promises: remaining + held + confirmed == capacity, per shard (for `queued`, its items as one pool) and in total; every buyer's
 * tally equals their live reservations and stays within the limit; one reservation per
 * Idempotency-Key. Run it on a quiet event (after a rush), not in the middle of one.
 */
export interface AuditOptions {
  /**
   * How often the sweeper runs: a HELD reservation more than two intervals past its expiry is a
   * violation (`unswept_expired_hold`). Unset: expired holds are only counted (`heldExpired`).
   */
  readonly sweepIntervalMs?: number;
  /**
   * The process's hold budget plus repair margin (STAMPEDE_HOLD_BUDGET_MS + STAMPEDE_REPAIR_MARGIN_MS):
   * a PENDING reservation older than this is a violation even if its own repair time says later,
   * so a bug that wrote that time wrong cannot hide it. Unset: its repair time alone decides.
   */
  readonly repairAfterMs?: number;
  /** Likewise for a QUEUED request: STAMPEDE_QUEUE_DECISION_TIMEOUT_MS. */
  readonly decideWithinMs?: number;
}

/** The age limits of a process configured as `config` (the audit should read the same settings as the API). */
export function processLimits(config: Pick<StampedeConfig, 'holdBudgetMs' | 'repairMarginMs' | 'queueDecisionTimeoutMs'>) {
  return { repairAfterMs: config.holdBudgetMs + config.repairMarginMs, decideWithinMs: config.queueDecisionTimeoutMs };
}

/** Reads of the books are retried this many times when the inventory changed while they were read. */
const maxReadAttempts = 5;

export async function auditEvent(
  db: DynamoDBDocumentClient,
  tableName: string,
  eventId: string,
  now: number,
  options: AuditOptions = {},
): Promise<AuditReport> {
  const { Item } = await db.send(new GetCommand({ TableName: tableName, Key: eventKey(eventId), ConsistentRead: true }));
  if (!Item) throw new Error(`No event with id '${eventId}' in table ${tableName}`);
  const event = fromEventItem(Item);
  const { shards, items } = await readBooks(db, tableName, event);

  const violations: Violation[] = [];
  const reservations: Reservation[] = [];
  const tallies: BuyerTally[] = [];
  for (const item of items) {
    if (item.type === reservationItemType) reservations.push(fromReservationItem(item));
    else if (item.type === buyerTallyItemType) tallies.push(fromBuyerTallyItem(item));
  }
  const outstanding = reservations.filter((r) => r.status === 'HELD' || r.status === 'CONFIRMED');

  // Inventory against reservations, shard by shard and in total.
  const takenPerShard = new Map<number, number>();
  for (const reservation of outstanding) {
    for (const take of reservation.takes) takenPerShard.set(take.shard, (takenPerShard.get(take.shard) ?? 0) + take.quantity);
  }
  // A `queued` event's items are one pool: its consumer takes from the stock, returns go to
  // return bins and folds move them back, so only the total can be held against reservations.
  const itemByItem = event.strategy !== 'queued';
  for (const shard of shards) {
    if (!Number.isFinite(shard.available) || !Number.isFinite(shard.allocated) || shard.available < 0 || (itemByItem && shard.available > shard.allocated)) {
      violations.push({ kind: 'shard_out_of_range', message: `Shard ${shard.shard} has ${shard.available} available of ${shard.allocated}` });
    }
    const taken = shard.allocated - shard.available;
    const accounted = takenPerShard.get(shard.shard) ?? 0;
    if (itemByItem && taken !== accounted) {
      violations.push({
        kind: 'shard_mismatch',
        message: `Shard ${shard.shard}: ${taken} ticket(s) taken from inventory but reservations account for ${accounted}`,
      });
    }
  }
  const remaining = sum(shards.map((s) => s.available));
  const isExpired = (r: Reservation) => now >= r.expiresAt;
  const held = sum(outstanding.filter((r) => r.status === 'HELD').map((r) => r.quantity));
  const heldExpired = sum(outstanding.filter((r) => r.status === 'HELD' && isExpired(r)).map((r) => r.quantity));
  const confirmed = sum(outstanding.filter((r) => r.status === 'CONFIRMED').map((r) => r.quantity));
  const released = sum(reservations.filter((r) => r.status === 'RELEASED').map((r) => r.quantity));
  const expired = sum(reservations.filter((r) => r.status === 'EXPIRED').map((r) => r.quantity));
  const accountedTotal = remaining + held + confirmed;
  const oversold = Math.max(0, held + confirmed - event.capacity);
  const inflated = Math.max(0, accountedTotal - event.capacity) - oversold;
  const lost = Math.max(0, event.capacity - accountedTotal);
  if (oversold > 0) {
    violations.push({
      kind: 'oversold',
      message: `${oversold} ticket(s) oversold: ${held} held + ${confirmed} confirmed > capacity ${event.capacity}`,
    });
  }
  if (inflated > 0) {
    violations.push({
      kind: 'inventory_inflated',
      message: `${inflated} ticket(s) on the books that never existed: ${remaining} remaining + ${held} held + ${confirmed} confirmed > capacity ${event.capacity}${oversold > 0 ? ` + ${oversold} oversold` : ''}`,
    });
  }
  if (lost > 0) {
    violations.push({
      kind: 'lost_tickets',
      message: `${lost} ticket(s) lost: ${remaining} remaining + ${held} held + ${confirmed} confirmed < capacity ${event.capacity}`,
    });
  }

  // Due by its own repair time, or by its age when the auditor knows the process's limits; a
  // missing or broken time is due at once (fail closed: such an item has left the sweep index).
  const isDue = (r: Reservation, maxAgeMs: number | undefined) =>
    !Number.isFinite(r.repairAt) || now >= r.repairAt! || (maxAgeMs !== undefined && now >= r.createdAt + maxAgeMs);
  // A PENDING reservation past its repair time is a stepwise hold that crashed half-way and was not repaired.
  const pending = reservations.filter((r) => r.status === 'PENDING' && isDue(r, options.repairAfterMs));
  for (const reservation of pending) {
    violations.push({
      kind: 'pending_hold',
      message: `Reservation ${reservation.reservationId} is stuck half-way through a stepwise hold (PENDING, stage ${reservation.pendingStage}) past its repair time`,
    });
  }

  // A queued request is decided by its consumer, or REJECTED by the sweeper once its decision timeout has passed.
  const queuedRequests = reservations.filter((r) => r.status === 'QUEUED');
  const undecided = queuedRequests.filter((r) => isDue(r, options.decideWithinMs));
  for (const reservation of undecided) {
    violations.push({
      kind: 'undecided_request',
      message: `Reservation ${reservation.reservationId} is still QUEUED past its decision timeout`,
    });
  }

  // Expired holds come back by themselves: none may outlive two sweeps.
  const sweepInterval = options.sweepIntervalMs;
  const unswept = sweepInterval === undefined ? [] : outstanding.filter((r) => r.status === 'HELD' && !(now <= r.expiresAt + 2 * sweepInterval)); // NaN: due
  for (const reservation of unswept) {
    violations.push({
      kind: 'unswept_expired_hold',
      message: `Reservation ${reservation.reservationId} expired ${Math.round((now - reservation.expiresAt) / 1000)} s ago and still holds ${reservation.quantity} ticket(s)`,
    });
  }

  // Reservations are well formed (a request not decided, or turned down, has taken nothing).
  for (const reservation of reservations) {
    const times = [reservation.createdAt, reservation.expiresAt];
    if (!times.every(Number.isFinite) || !reservation.takes.every((take) => Number.isFinite(take.shard) && Number.isFinite(take.quantity))) {
      violations.push({ kind: 'malformed_reservation', message: `Reservation ${reservation.reservationId} has a missing or broken number` });
    }
    if (reservation.status === 'QUEUED' || reservation.status === 'REJECTED') {
      if (reservation.takes.length > 0) {
        violations.push({ kind: 'malformed_reservation', message: `Reservation ${reservation.reservationId} is ${reservation.status} but took tickets` });
      }
      continue;
    }
    const takes = sum(reservation.takes.map((t) => t.quantity));
    if (takes !== reservation.quantity || !(reservation.quantity >= 1 && reservation.quantity <= event.maxPerBuyer)) {
      violations.push({
        kind: 'malformed_reservation',
        message: `Reservation ${reservation.reservationId} has quantity ${reservation.quantity} but takes ${takes}`,
      });
    }
  }

  // Buyers: tallies match their live reservations (and requests still queued, and stepwise holds
  // half-way that their tally already counts: PENDING at stage `tallied`) and stay within the limit.
  const talliedHalfWay = reservations.filter((r) => r.status === 'PENDING' && r.pendingStage === 'tallied');
  const perBuyer = new Map<string, number>();
  for (const reservation of [...outstanding, ...queuedRequests, ...talliedHalfWay])
    perBuyer.set(reservation.buyerId, (perBuyer.get(reservation.buyerId) ?? 0) + reservation.quantity);
  const tallyByBuyer = new Map(tallies.map((tally) => [tally.buyerId, tally.tickets]));
  let buyersOverLimit = 0;
  for (const buyerId of new Set([...perBuyer.keys(), ...tallyByBuyer.keys()])) {
    const tickets = perBuyer.get(buyerId) ?? 0;
    const tally = tallyByBuyer.get(buyerId) ?? 0;
    if (tickets > event.maxPerBuyer || tally > event.maxPerBuyer) {
      buyersOverLimit++;
      violations.push({ kind: 'buyer_over_limit', message: `Buyer '${buyerId}' has ${tickets} ticket(s); the limit is ${event.maxPerBuyer}` });
    }
    if (tally !== tickets) {
      // a broken (NaN) tally is never equal
      violations.push({ kind: 'tally_mismatch', message: `Buyer '${buyerId}' tally says ${tally} but reservations hold ${tickets}` });
    }
  }

  // One request, one hold: a buyer's Idempotency-Key never yields two reservations (keys are scoped to their buyer).
  const perKey = new Map<string, { buyerId: string; key: string; count: number }>();
  for (const { buyerId, idempotencyKey: key } of reservations) {
    if (!key) continue;
    const scoped = JSON.stringify([buyerId, key]);
    const entry = perKey.get(scoped) ?? { buyerId, key, count: 0 };
    entry.count++;
    perKey.set(scoped, entry);
  }
  let doubleHolds = 0;
  for (const { buyerId, key, count } of perKey.values()) {
    if (count < 2) continue;
    doubleHolds += count - 1;
    violations.push({ kind: 'double_hold', message: `Buyer '${buyerId}''s Idempotency-Key '${key}' produced ${count} reservations` });
  }

  return {
    eventId,
    strategy: event.strategy,
    capacity: event.capacity,
    remaining,
    held,
    heldExpired,
    confirmed,
    released,
    expired,
    sold: held + confirmed,
    oversold,
    inflated,
    lost,
    reservations: reservations.length,
    buyers: perBuyer.size,
    buyersOverLimit,
    doubleHolds,
    pending: pending.length,
    pendingNotYetDue: reservations.filter((r) => r.status === 'PENDING').length - pending.length,
    unsweptExpired: unswept.length,
    queued: sum(queuedRequests.map((r) => r.quantity)),
    rejected: reservations.filter((r) => r.status === 'REJECTED').length,
    undecided: undecided.length,
    violations,
  };
}

/** The audit could not read the books as of one moment: writes kept landing. Ask again once the event is quiet. */
export class BooksStillChanging extends Error {
  constructor(eventId: string) {
    super(`Event ${eventId}'s inventory kept changing during the audit: audit it once it is quiet.`);
    this.name = 'BooksStillChanging';
  }
}

/**
 * The inventory and the event's reservations and tallies, as of one moment: the shards are read
 * before and after the scan, and the reads are repeated if any shard changed meanwhile (every
 * inventory write moves its `version`), so a sweep or a late hold during the audit cannot show
 * a ticket in two places or in none.
 */
async function readBooks(db: DynamoDBDocumentClient, tableName: string, event: TicketEvent) {
  let shards = await readShards(db, tableName, event);
  for (let attempt = 1; ; attempt++) {
    const items = await scanEventItems(db, tableName, event.eventId);
    const after = await readShards(db, tableName, event);
    if (after.every((shard, i) => shard.version === shards[i]!.version)) return { shards: after, items };
    if (attempt >= maxReadAttempts) throw new BooksStillChanging(event.eventId);
    shards = after;
  }
}

async function readShards(db: DynamoDBDocumentClient, tableName: string, event: TicketEvent): Promise<InventoryShard[]> {
  const shards = await Promise.all(
    Array.from({ length: inventoryItemsOf(event) }, (_, shard) =>
      db.send(new GetCommand({ TableName: tableName, Key: inventoryKey(event.eventId, shard), ConsistentRead: true })),
    ),
  );
  return shards.map(({ Item }, shard) => {
    if (!Item) throw new Error(`Event ${event.eventId} is missing inventory shard ${shard}`);
    return fromInventoryItem(Item);
  });
}

/**
 * Reservations and buyer tallies live in their own partitions (so buyers never contend), so
 * the audit finds them with a parallel Scan. It is an offline check, not a request path.
 */
export async function scanEventItems(db: DynamoDBDocumentClient, tableName: string, eventId: string, segments = 4) {
  const scanSegment = async (segment: number) => {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new ScanCommand({
          TableName: tableName,
          Segment: segment,
          TotalSegments: segments,
          ConsistentRead: true,
          FilterExpression: 'eventId = :eventId AND (#type = :reservation OR #type = :tally)',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: { ':eventId': eventId, ':reservation': reservationItemType, ':tally': buyerTallyItemType },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  };
  return (await Promise.all(Array.from({ length: segments }, (_, segment) => scanSegment(segment)))).flat();
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
