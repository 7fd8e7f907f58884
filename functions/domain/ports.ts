import type { HoldOutcome, HoldRequest, Reservation, StrategyName, TicketEvent } from './model';

/** What the domain needs from storage. The DynamoDB implementations live in functions/data/. */

export interface EventRepository {
  /** Store a new event and its inventory. */
  create(event: TicketEvent): Promise<void>;
  find(eventId: string): Promise<TicketEvent | undefined>;
  /** Tickets not held or sold right now (a strongly consistent read). */
  remaining(event: TicketEvent): Promise<number>;
}

/**
 * One way to place a hold. Every implementation but `unsafe` guarantees, in DynamoDB, that
 * holds never exceed the inventory and a buyer never exceeds `maxPerBuyer`.
 * Throws SoldOut, BuyerLimitExceeded, Contention or ThroughputExceeded.
 */
export interface ReservationStrategy {
  readonly name: StrategyName;
  hold(event: TicketEvent, request: HoldRequest): Promise<HoldOutcome>;
}

/** The result of a conditional state change on a reservation. */
export type Transition =
  | { readonly kind: 'done'; readonly reservation: Reservation }
  /** The condition did not hold: `current` is what the reservation is now. */
  | { readonly kind: 'refused'; readonly current: Reservation }
  | { readonly kind: 'missing' };

export interface ReservationRepository {
  find(reservationId: string): Promise<Reservation | undefined>;
  /** The buyer's HELD and not expired → CONFIRMED. Another buyer's reservation is `missing`. */
  confirm(reservationId: string, buyerId: string, now: number): Promise<Transition>;
  /** The buyer's HELD and not expired → RELEASED, tickets back to inventory and the tally, atomically. Another buyer's is `missing`. */
  release(reservationId: string, buyerId: string, now: number): Promise<Transition>;
  /**
   * HELD and expired → EXPIRED, tickets back, atomically. Safe to call any number of times. Takes
   * the reservation as its caller just read it (only its shards, quantity and buyer are used, which
   * never change while it is HELD): the write's condition decides, so a stale copy changes nothing.
   */
  expire(reservation: Reservation, now: number): Promise<Transition>;
}

/** A reservation the sweep index says is due: its hold expired, or its PENDING steps were interrupted. */
export interface DueReservation {
  readonly reservationId: string;
  /** When it became due (ms): the hold's expiry, or the moment an interrupted hold may be repaired. */
  readonly sweepAt: number;
}

export interface SweepRepository {
  /**
   * What is due at `now`, without scanning the table: one page per part of the index, each settling
   * as its read answers (so the sweeper can act on one while others are read). The index is
   * eventually consistent: read each reservation before acting.
   */
  due(now: number): readonly Promise<DueReservation[]>[];
  /** Undo an interrupted stepwise hold (it holds no tickets; its tally comes back), if still due. True if this call did it. */
  repairPending(reservation: Reservation, now: number): Promise<boolean>;
}

/** A request in a `queued` event's log, as its consumer reads it. */
export interface QueuedRequest {
  readonly eventId: string;
  readonly reservationId: string;
  readonly buyerId: string;
  readonly quantity: number;
  readonly createdAt: number;
}

/** What deciding a batch of one event's queued requests did. */
export interface QueueDecisionTally {
  readonly held: number;
  readonly ticketsHeld: number;
  readonly rejected: number;
  /** Entries already decided (a redelivery, or timed out by the sweeper): left alone. */
  readonly alreadyDecided: number;
  /** Inventory writes made: one per chunk of winners. */
  readonly chunks: number;
}

export interface QueueDecisions {
  /**
   * Decide one event's requests, in the order given: the earliest that fit win. `now` is read as
   * each decision is written (a batch takes several transactions), so a decision's time and a
   * hold's expiry count from when it was made.
   */
  decide(event: TicketEvent, requests: readonly QueuedRequest[], now: () => number): Promise<QueueDecisionTally>;
  /** The sweeper's half: a request never decided by `now` is REJECTED (not_decided), its tally given back. True if this call did it. */
  rejectUndecided(reservation: Reservation, now: number): Promise<boolean>;
}

export type MetricName =
  | 'ReservationCreated'
  | 'ReservationReplayed'
  | 'SoldOut'
  | 'BuyerLimitExceeded'
  /** A write lost a race (condition on a changed version, or a transaction conflict). */
  | 'Conflict'
  /** A write found its shard emptier than expected and tried another. */
  | 'ShardMiss'
  | 'Retry'
  | 'ContentionExhausted'
  /** A sold-out answer decided by a read, without writing. */
  | 'SoldOutWithoutWrite'
  /** `queued`: requests its consumer decided as holds, or turned down. */
  | 'QueueHeld'
  | 'QueueRejected'
  /** `queued`: an event's share of a batch the consumer could not decide (throttled, an error); the stream delivers it again. */
  | 'QueueDecisionFailed';

/** Counters by strategy: Powertools Metrics (EMF) on Lambda, in memory locally. */
export interface Telemetry {
  count(metric: MetricName, strategy: StrategyName, value?: number): void;
  /** Send what was counted; the HTTP handler calls it once at the end of every invocation. */
  flush?(): void;
}
