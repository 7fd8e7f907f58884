/** Domain types. Nothing here knows about DynamoDB or HTTP. */

export const strategies = ['sharded', 'transactional', 'conditional', 'optimistic', 'pessimistic', 'queued', 'unsafe'] as const;
export type StrategyName = (typeof strategies)[number];

export const defaultStrategy: StrategyName = 'sharded';
/**
 * 16 shards: at most 16 × ~500 hold transactions/s on AWS (one partition takes 1,000 WCU/s), and
 * projected 5,000–6,800 holds/s per event from the benches' counted write units, since releases
 * write shards too and random choice never spreads perfectly (BENCHMARKS.md). Events that need more are created with more shards.
 */
export const defaultShardCount = 16;
export const defaultHoldSeconds = 600;
/** The shortest hold an event may have: also how soon, at the earliest, a new hold comes due for the sweeper. */
export const minHoldSeconds = 30;
export const defaultMaxPerBuyer = 10;

/**
 * `queued` keeps its tickets in one stock item (item 0), which its consumer takes a whole chunk
 * of holds from in one write, and tickets that come back (release, expiry) go to return bins
 * (items 1..8, spread by reservation id), so each return does not write the stock item again; the
 * consumer folds the bins into the stock when the stock runs short (docs/design.md).
 */
export const queueReturnBins = 8;

/**
 * Inventory items of an event. `shards` splits the capacity for `sharded`; for `queued` it is the
 * number of keys its request log is spread over, and its inventory is the stock and its return bins.
 */
export function inventoryItemsOf(event: Pick<TicketEvent, 'strategy' | 'shards'>): number {
  return event.strategy === 'queued' ? 1 + queueReturnBins : event.shards;
}

/** `queued`: log keys by default, so admissions are not capped by one partition (see docs/design.md). */
export const defaultQueueLogKeys = 64;

export interface TicketEvent {
  readonly eventId: string;
  readonly name: string;
  readonly capacity: number;
  readonly strategy: StrategyName;
  /** Inventory items (partition keys) the capacity is split across; for `queued`, its log keys (see inventoryItemsOf). */
  readonly shards: number;
  readonly holdSeconds: number;
  readonly maxPerBuyer: number;
  readonly createdAt: number;
}

/**
 * QUEUED and REJECTED are the `queued` strategy's: a request waiting in the event's ordered log,
 * and one its turn found sold out (or that was never decided in time).
 */
export const reservationStatuses = ['QUEUED', 'HELD', 'CONFIRMED', 'RELEASED', 'EXPIRED', 'REJECTED'] as const;

/** Why a queued request was turned down. */
export const rejectionReasons = ['sold_out', 'not_decided'] as const;
export type RejectionReason = (typeof rejectionReasons)[number];

/**
 * PENDING exists only in storage, while a stepwise (non-transactional) hold is half-way;
 * clients never see it: such a reservation does not exist for them yet. Its stage says how far
 * it got (`claimed`: nothing else done yet; `tallied`: counted against the buyer), so an
 * interrupted one can be undone exactly: it never holds tickets (see stepwise-hold.ts).
 */
export type PendingStage = 'claimed' | 'tallied';

export const storedStatuses = ['PENDING', ...reservationStatuses] as const;
export type StoredStatus = (typeof storedStatuses)[number];

/** Tickets a reservation took from one inventory shard; a release gives them back to it. */
export interface ShardTake {
  readonly shard: number;
  readonly quantity: number;
}

export interface Reservation {
  readonly reservationId: string;
  readonly eventId: string;
  readonly buyerId: string;
  readonly quantity: number;
  /** As stored. A HELD reservation past `expiresAt` is reported as EXPIRED: see `effectiveStatus`. */
  readonly status: StoredStatus;
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly takes: readonly ShardTake[];
  /** Fingerprint of the request that created it, to tell an idempotent replay from a reused key. */
  readonly requestFingerprint: string;
  readonly idempotencyKey?: string;
  /** How far a PENDING reservation got; undefined otherwise. */
  readonly pendingStage?: PendingStage;
  /** Which attempt claimed a PENDING reservation, so a repair undoes that attempt's claim and no later one's. */
  readonly claimId?: string;
  /** When a PENDING reservation counts as interrupted, or a QUEUED one is given up (HoldRequest.repairAt); undefined otherwise. */
  readonly repairAt?: number;
  /** A queued request: when its turn came (ms), and why it was turned down if it was. */
  readonly decidedAt?: number;
  readonly rejection?: RejectionReason;
}

/** The status a client sees: an expired hold is EXPIRED even before its tickets are swept back. */
export function effectiveStatus(reservation: Reservation, now: number): StoredStatus {
  if (reservation.status === 'HELD' && now >= reservation.expiresAt) return 'EXPIRED';
  return reservation.status;
}

/** Everything a strategy needs to place one hold. Ids and times are decided before the write. */
export interface HoldRequest {
  readonly reservationId: string;
  readonly buyerId: string;
  readonly quantity: number;
  readonly requestFingerprint: string;
  readonly idempotencyKey?: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Past this time (ms since the epoch) the hold stops retrying and answers 503: see StampedeConfig.holdBudgetMs. */
  readonly deadline: number;
  /**
   * From this time a stepwise hold still PENDING was interrupted (its process crashed or was cut
   * off): the deadline plus a margin for calls already sent. The sweeper undoes it then.
   */
  readonly repairAt: number;
  /** What this request's attempts left unknown (see HoldAttempts); set by the service for every request. */
  readonly attempts?: HoldAttempts;
}

/**
 * Whether a write of one hold request may have happened without its answer: the write failed
 * with no verdict from DynamoDB (a timeout, a lost connection, the SDK's retry of it throttled), so
 * a later attempt cannot tell its own hold from someone else's. After that, a refusal or any other
 * failure looks up the request's own reservation before it goes out (ReservationService). Only
 * then: an extra read for every refusal halved the local sold-out path (measured 6 December 2026).
 */
export class HoldAttempts {
  private unclear = false;

  markUnclear(): void {
    this.unclear = true;
  }

  get anyUnclear(): boolean {
    return this.unclear;
  }
}

export type HoldOutcome =
  | { readonly kind: 'created'; readonly reservation: Reservation }
  /** A reservation with this id already existed (idempotent replay or reused key). */
  | { readonly kind: 'existing'; readonly reservation: Reservation };
