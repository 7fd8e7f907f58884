import { randomUUID } from 'node:crypto';
import {
  type HoldRequest,
  type PendingStage,
  type RejectionReason,
  type Reservation,
  rejectionReasons,
  type ShardTake,
  type StoredStatus,
  storedStatuses,
} from '../../domain/model';
import { sweepShardOf } from '../sweep-index';
import { returnBinOf } from './inventory-item';

/**
 * A hold and what became of it. Item: pk `RESERVATION#<reservationId>`, sk `RESERVATION`.
 * Its own partition, so buyers never contend on reservations. The id is derived from the
 * Idempotency-Key when there is one, so `attribute_not_exists` on this item is what makes
 * a replayed request a no-op.
 *
 * `takes` records which inventory shards the tickets came from ({"<shard>": quantity}),
 * so a release or expiry gives each ticket back to the shard it was taken from.
 */
export const reservationItemType = 'Reservation';

/** Finished reservations are cleaned up by TTL after this long (their tickets are already back). */
const finishedRetentionSeconds = 30 * 24 * 3600;

export function reservationKey(reservationId: string) {
  return { pk: `RESERVATION#${reservationId}`, sk: 'RESERVATION' };
}

/**
 * A new reservation: HELD (it took `takes`), PENDING (a stepwise hold's claim: see
 * toPendingReservationItem) or QUEUED (a `queued` request, which takes its tickets when its turn
 * comes). HELD is due at its expiry, the other two at `hold.repairAt` (an interrupted hold, a
 * request never decided).
 */
export function toReservationItem(eventId: string, hold: HoldRequest, takes: readonly ShardTake[], status: 'HELD' | 'PENDING' | 'QUEUED' = 'HELD') {
  return {
    ...reservationKey(hold.reservationId),
    type: reservationItemType,
    reservationId: hold.reservationId,
    eventId,
    buyerId: hold.buyerId,
    quantity: hold.quantity,
    status: status as StoredStatus,
    createdAt: hold.createdAt,
    expiresAt: hold.expiresAt,
    takes: Object.fromEntries(takes.map((take) => [String(take.shard), take.quantity])),
    requestFingerprint: hold.requestFingerprint,
    idempotencyKey: hold.idempotencyKey,
    // In the sweep index until it leaves HELD/PENDING: see sweep-index.ts.
    sweepShard: sweepShardOf(hold.reservationId),
    sweepAt: status === 'HELD' ? hold.expiresAt : hold.repairAt,
  };
}

/** A stepwise hold's claim: PENDING at stage `claimed`, with a claim id of this attempt's own (PendingClaim). */
export function toPendingReservationItem(eventId: string, hold: HoldRequest, takes: readonly ShardTake[]) {
  return { ...toReservationItem(eventId, hold, takes, 'PENDING'), stage: 'claimed' as PendingStage, claimId: randomUUID() };
}

export function fromReservationItem(item: Record<string, unknown>): Reservation {
  const status = item.status as StoredStatus;
  if (!storedStatuses.includes(status)) throw new Error(`Reservation item has unknown status '${String(status)}'`);
  const takes = Object.entries((item.takes ?? {}) as Record<string, unknown>)
    .map(([shard, quantity]) => ({ shard: Number(shard), quantity: Number(quantity) }))
    .sort((a, b) => a.shard - b.shard);
  return {
    reservationId: String(item.reservationId),
    eventId: String(item.eventId),
    buyerId: String(item.buyerId),
    quantity: Number(item.quantity),
    status,
    expiresAt: Number(item.expiresAt),
    createdAt: Number(item.createdAt),
    takes,
    requestFingerprint: String(item.requestFingerprint),
    idempotencyKey: item.idempotencyKey === undefined ? undefined : String(item.idempotencyKey),
    ...(status === 'PENDING' && {
      pendingStage: item.stage === 'tallied' ? 'tallied' : 'claimed',
      ...(item.claimId !== undefined && { claimId: String(item.claimId) }),
      repairAt: Number(item.sweepAt),
    }),
    ...(status === 'QUEUED' && { repairAt: Number(item.sweepAt) }),
    ...(item.decidedAt !== undefined && { decidedAt: Number(item.decidedAt) }),
    ...(status === 'REJECTED' && {
      rejection: rejectionReasons.includes(item.rejection as RejectionReason) ? (item.rejection as RejectionReason) : 'sold_out',
    }),
  };
}

/** Leaving HELD or PENDING leaves the sweep index too. */
const leaveSweepIndex = 'REMOVE sweepShard, sweepAt';

/** Create the reservation only if its id is new: a replay finds the original instead. */
export function putNewReservation(tableName: string, item: ReturnType<typeof toReservationItem>) {
  return {
    TableName: tableName,
    Item: item,
    ConditionExpression: 'attribute_not_exists(#pk)',
    ExpressionAttributeNames: { '#pk': 'pk' },
  };
}

/**
 * A stepwise hold's claim on its reservation id: which attempt made it. The id comes from the
 * buyer and the Idempotency-Key, so once the sweeper has undone an interrupted attempt's claim a
 * later request with the same key (perhaps for another event or quantity) claims the same id;
 * every step and undo is conditional on the attempt's own `claimId`, so a late step of the
 * interrupted attempt fails instead of counting or taking tickets on the newer claim.
 */
export interface PendingClaim {
  readonly reservationId: string;
  /** Undefined only on claims written before claim ids existed: those match a claim without one. */
  readonly claimId?: string;
}

const pendingAt = (stage: PendingStage, claimId: string | undefined) => ({
  ConditionExpression: `#status = :pending AND #stage = :stage AND ${claimId === undefined ? 'attribute_not_exists(#claim)' : '#claim = :claim'}`,
  names: { '#status': 'status', '#stage': 'stage', '#claim': 'claimId' },
  values: { ':pending': 'PENDING', ':stage': stage, ...(claimId !== undefined && { ':claim': claimId }) },
});

/** Step 2 of a stepwise hold, in one transaction with the buyer's tally: the tickets are counted. */
export function markTallied(tableName: string, claim: PendingClaim) {
  const at = pendingAt('claimed', claim.claimId);
  return {
    TableName: tableName,
    Key: reservationKey(claim.reservationId),
    UpdateExpression: 'SET #stage = :tallied',
    ConditionExpression: at.ConditionExpression,
    ExpressionAttributeNames: at.names,
    ExpressionAttributeValues: { ...at.values, ':tallied': 'tallied' },
  };
}

/** Step 3, in one transaction with the take from inventory: the claim becomes a hold that expires. */
export function markHeld(tableName: string, claim: PendingClaim, expiresAt: number) {
  const at = pendingAt('tallied', claim.claimId);
  return {
    TableName: tableName,
    Key: reservationKey(claim.reservationId),
    UpdateExpression: 'SET #status = :held, sweepAt = :expiresAt REMOVE #stage, #claim',
    ConditionExpression: at.ConditionExpression,
    ExpressionAttributeNames: at.names,
    ExpressionAttributeValues: { ...at.values, ':held': 'HELD', ':expiresAt': expiresAt },
  };
}

/**
 * Undo a stepwise hold's claim, only at the stage it reached and only if it is still this
 * attempt's claim (so an undo and a repair by the sweeper never both run); with `dueBy`, only
 * once the sweep index says it is due.
 */
export function deletePendingHold(tableName: string, claim: PendingClaim, stage: PendingStage, dueBy?: number) {
  const at = pendingAt(stage, claim.claimId);
  return {
    TableName: tableName,
    Key: reservationKey(claim.reservationId),
    ConditionExpression: dueBy === undefined ? at.ConditionExpression : `${at.ConditionExpression} AND sweepAt <= :now`,
    ExpressionAttributeNames: at.names,
    ExpressionAttributeValues: { ...at.values, ...(dueBy !== undefined && { ':now': dueBy }) },
  };
}

/** Move the buyer's live hold (HELD, not past expiry) to CONFIRMED; anyone else's is left alone. */
export function confirmHold(tableName: string, reservationId: string, buyerId: string, now: number) {
  return {
    TableName: tableName,
    Key: reservationKey(reservationId),
    UpdateExpression: `SET #status = :confirmed, confirmedAt = :now ${leaveSweepIndex}`,
    ConditionExpression: '#status = :held AND expiresAt > :now AND #buyerId = :buyerId',
    ExpressionAttributeNames: { '#status': 'status', '#buyerId': 'buyerId' },
    ExpressionAttributeValues: { ':confirmed': 'CONFIRMED', ':held': 'HELD', ':now': now, ':buyerId': buyerId },
  };
}

/** Who may finish a hold: its buyer releases it while it is live; expiry needs nobody. */
export type Finish = { readonly outcome: 'RELEASED'; readonly buyerId: string } | { readonly outcome: 'EXPIRED' };

/**
 * Finish a HELD reservation as RELEASED (a live hold its buyer gives back) or EXPIRED (a hold
 * past its expiry). The status condition is what makes returning its tickets happen exactly once.
 */
export function finishHold(tableName: string, reservationId: string, finish: Finish, now: number) {
  const released = finish.outcome === 'RELEASED';
  return {
    TableName: tableName,
    Key: reservationKey(reservationId),
    UpdateExpression: `SET #status = :outcome, finishedAt = :now, #ttl = :ttl ${leaveSweepIndex}`,
    ConditionExpression: released ? '#status = :held AND expiresAt > :now AND #buyerId = :buyerId' : '#status = :held AND expiresAt <= :now',
    ExpressionAttributeNames: { '#status': 'status', '#ttl': 'ttl', ...(released && { '#buyerId': 'buyerId' }) },
    ExpressionAttributeValues: {
      ':outcome': finish.outcome,
      ':held': 'HELD',
      ':now': now,
      ':ttl': Math.floor(now / 1000) + finishedRetentionSeconds,
      ...(released && { ':buyerId': finish.buyerId }),
    },
  };
}

/**
 * A queued request's turn came and it fits: it holds `quantity` of the event's stock from now
 * until `expiresAt`. Its `takes` name the return bin the tickets go back to (returnBinOf), not the
 * stock they came from: returns must not write the stock item once each. Only if still QUEUED: a
 * redelivered log entry decides nothing twice.
 */
export function decideHeld(tableName: string, reservationId: string, quantity: number, now: number, expiresAt: number) {
  return {
    TableName: tableName,
    Key: reservationKey(reservationId),
    UpdateExpression: 'SET #status = :held, takes = :takes, decidedAt = :now, expiresAt = :expiresAt, sweepAt = :expiresAt',
    ConditionExpression: '#status = :queued',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: {
      ':held': 'HELD',
      ':queued': 'QUEUED',
      ':takes': { [returnBinOf(reservationId)]: quantity },
      ':now': now,
      ':expiresAt': expiresAt,
    },
  };
}

/**
 * A queued request turned down: its turn found too few tickets, or (with `dueBy`, by the sweeper)
 * it was never decided in time. Only if still QUEUED.
 */
export function rejectQueued(tableName: string, reservationId: string, reason: RejectionReason, now: number, dueBy?: number) {
  return {
    TableName: tableName,
    Key: reservationKey(reservationId),
    UpdateExpression: `SET #status = :rejected, rejection = :reason, decidedAt = :now, #ttl = :ttl ${leaveSweepIndex}`,
    ConditionExpression: dueBy === undefined ? '#status = :queued' : '#status = :queued AND sweepAt <= :dueBy',
    ExpressionAttributeNames: { '#status': 'status', '#ttl': 'ttl' },
    ExpressionAttributeValues: {
      ':rejected': 'REJECTED',
      ':queued': 'QUEUED',
      ':reason': reason,
      ':now': now,
      ':ttl': Math.floor(now / 1000) + finishedRetentionSeconds,
      ...(dueBy !== undefined && { ':dueBy': dueBy }),
    },
  };
}
