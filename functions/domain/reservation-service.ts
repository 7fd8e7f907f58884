import type { Clock } from './clock';
import {
  BuyerLimitExceeded,
  Contention,
  EventNotFound,
  HoldExpired,
  IdempotencyKeyReused,
  InvalidRequest,
  NotHeld,
  ReservationNotFound,
  SoldOut,
  UnsafeStrategyDisabled,
} from './errors';
import { newReservationId, requestFingerprint, reservationIdForKey } from './ids';
import { effectiveStatus, HoldAttempts, type HoldOutcome, type HoldRequest, type Reservation, type StrategyName, type TicketEvent } from './model';
import type { EventRepository, ReservationRepository, ReservationStrategy, Telemetry, Transition } from './ports';
import type { Sleep } from './retry';

export interface ReserveCommand {
  readonly eventId: string;
  /** The caller: the token's `sub`. */
  readonly buyerId: string;
  readonly quantity: number;
  readonly idempotencyKey?: string;
}

export interface ReserveResult {
  readonly reservation: Reservation;
  /** True when this answered a replay of an earlier request with the same Idempotency-Key. */
  readonly replayed: boolean;
}

export type StrategyRegistry = Readonly<Record<StrategyName, ReservationStrategy>>;

export interface ReservationSettings {
  /** The unsafe control strategy may run (tests and benchmarks only). */
  readonly allowUnsafe: boolean;
  /** How long one hold may keep retrying before it answers 503 (see StampedeConfig.holdBudgetMs). */
  readonly holdBudgetMs: number;
  /** See StampedeConfig.repairMarginMs. */
  readonly repairMarginMs: number;
  /** `queued`: how long to wait for a decision before answering QUEUED (StampedeConfig.queueWaitMs). */
  readonly queueWaitMs: number;
  /** `queued`: when an undecided request is given up (StampedeConfig.queueDecisionTimeoutMs). */
  readonly queueDecisionTimeoutMs: number;
  readonly sleep: Sleep;
}

/**
 * A queued request first looks for its decision this soon, then twice as long after each look:
 * most decisions come within a few hundred milliseconds, and a request that waits longer must not
 * read its reservation 20 times a second (a 1 s wait costs 5 reads, not 20; thousands of waiting
 * requests must not starve the consumer that decides them).
 */
const firstQueuePollMs = 50;

/** A state change can lose a race with another one; after this many tries something is wrong. */
const maxTransitionAttempts = 3;

export class ReservationService {
  constructor(
    private readonly events: EventRepository,
    private readonly reservations: ReservationRepository,
    private readonly strategies: StrategyRegistry,
    private readonly clock: Clock,
    private readonly telemetry: Telemetry,
    private readonly settings: ReservationSettings,
  ) {}

  async reserve(command: ReserveCommand): Promise<ReserveResult> {
    const event = await this.events.find(command.eventId);
    if (!event) throw new EventNotFound(command.eventId);
    if (command.quantity > event.maxPerBuyer) {
      throw new InvalidRequest(`This event allows at most ${event.maxPerBuyer} ticket(s) per buyer.`, [
        { field: 'quantity', problem: `must be at most ${event.maxPerBuyer}` },
      ]);
    }
    if (event.strategy === 'unsafe' && !this.settings.allowUnsafe) throw new UnsafeStrategyDisabled();

    const now = this.clock.now();
    const fingerprint = requestFingerprint(event.eventId, command.buyerId, command.quantity);
    const hold: HoldRequest = {
      reservationId: command.idempotencyKey ? reservationIdForKey(command.buyerId, command.idempotencyKey) : newReservationId(),
      buyerId: command.buyerId,
      quantity: command.quantity,
      requestFingerprint: fingerprint,
      idempotencyKey: command.idempotencyKey,
      createdAt: now,
      expiresAt: now + event.holdSeconds * 1000,
      deadline: now + this.settings.holdBudgetMs,
      repairAt: now + (event.strategy === 'queued' ? this.settings.queueDecisionTimeoutMs : this.settings.holdBudgetMs + this.settings.repairMarginMs),
      attempts: new HoldAttempts(),
    };
    const outcome = await this.countOutcome(event.strategy, () => this.holdOrFindReplay(event, hold));
    // Without a key the reservation id is this request's own: a reservation with it is the hold
    // this request made (an attempt whose answer was lost), answered as made, not as a replay.
    if (outcome.kind === 'existing' && command.idempotencyKey) {
      if (outcome.reservation.requestFingerprint !== fingerprint) throw new IdempotencyKeyReused();
      this.telemetry.count('ReservationReplayed', event.strategy);
      return { reservation: this.present(await this.decisionOf(outcome.reservation)), replayed: true };
    }
    this.telemetry.count('ReservationCreated', event.strategy);
    const reservation = await this.decisionOf(outcome.reservation);
    // Its turn came within the wait and found too few tickets: the same answer as any sold-out.
    if (reservation.status === 'REJECTED' && reservation.rejection === 'sold_out') throw new SoldOut(command.quantity);
    return { reservation: this.present(reservation), replayed: false };
  }

  /** A queued request waits a little for its turn (most are decided within it), then is answered as it stands. */
  private async decisionOf(reservation: Reservation): Promise<Reservation> {
    if (reservation.status !== 'QUEUED') return reservation;
    const giveUpAt = this.clock.now() + this.settings.queueWaitMs;
    let current = reservation;
    let pause = firstQueuePollMs;
    while (current.status === 'QUEUED') {
      const left = giveUpAt - this.clock.now();
      if (left <= 0) break;
      await this.settings.sleep(Math.min(pause, left));
      pause *= 2;
      current = (await this.reservations.find(reservation.reservationId)) ?? current;
    }
    return current;
  }

  /** A buyer's own reservation; anyone else's does not exist for them. */
  async get(reservationId: string, buyerId: string): Promise<Reservation> {
    const reservation = await this.reservations.find(reservationId);
    // A PENDING reservation is a hold still being made: it does not exist for clients yet.
    if (!reservation || reservation.status === 'PENDING' || reservation.buyerId !== buyerId) throw new ReservationNotFound(reservationId);
    return this.present(reservation);
  }

  /** Idempotent: confirming a confirmed reservation returns it unchanged. Only its buyer may. */
  async confirm(reservationId: string, buyerId: string): Promise<Reservation> {
    return this.transition(reservationId, (now) => this.reservations.confirm(reservationId, buyerId, now), 'CONFIRMED');
  }

  /** Idempotent: releasing a released reservation changes nothing. Only its buyer may. */
  async release(reservationId: string, buyerId: string): Promise<Reservation> {
    return this.transition(reservationId, (now) => this.reservations.release(reservationId, buyerId, now), 'RELEASED');
  }

  private async transition(reservationId: string, attempt: (now: number) => Promise<Transition>, target: 'CONFIRMED' | 'RELEASED'): Promise<Reservation> {
    for (let tries = 1; tries <= maxTransitionAttempts; tries++) {
      const now = this.clock.now();
      const result = await attempt(now);
      if (result.kind === 'missing') throw new ReservationNotFound(reservationId);
      if (result.kind === 'done') return this.present(result.reservation);
      const current = result.current;
      if (current.status === 'PENDING') throw new ReservationNotFound(reservationId);
      if (current.status === target) return this.present(current);
      if (current.status === 'HELD' && now >= current.expiresAt) {
        // The hold ran out before anyone swept it: give its tickets back now, exactly once.
        await this.reservations.expire(current, now);
        throw new HoldExpired(reservationId, current.expiresAt);
      }
      if (current.status === 'EXPIRED') throw new HoldExpired(reservationId, current.expiresAt);
      if (current.status !== 'HELD') throw new NotHeld(reservationId, current.status);
      // Still HELD and live: our condition raced with a clock edge; look again.
    }
    throw new Contention(1, maxTransitionAttempts);
  }

  /**
   * A refusal decided without writing (a sold-out read) never looked at the reservation: if this
   * reservation id already made a hold, that hold is the answer. With a key, a replay whose first
   * answer the client lost; with or without one, an attempt of this very request whose write may
   * have happened unseen (HoldAttempts): the next attempt then read the tickets its own hold took.
   * After such an attempt, any failure looks too (a timeout, a throttle past the retries): the hold
   * may exist, and without a key its buyer could never learn its id. One read of a key nobody else
   * uses, only in those cases; if the read fails too, the original error stands.
   */
  private async holdOrFindReplay(event: TicketEvent, hold: HoldRequest): Promise<HoldOutcome> {
    try {
      return await this.strategies[event.strategy].hold(event, hold);
    } catch (error) {
      const refused = error instanceof SoldOut || error instanceof BuyerLimitExceeded;
      const unclear = hold.attempts?.anyUnclear === true;
      if (!unclear && (!refused || !hold.idempotencyKey)) throw error;
      const existing = await this.reservations.find(hold.reservationId).catch(() => undefined);
      if (!existing || existing.status === 'PENDING') throw error;
      return { kind: 'existing', reservation: existing };
    }
  }

  private present(reservation: Reservation): Reservation {
    const status = effectiveStatus(reservation, this.clock.now());
    return status === reservation.status ? reservation : { ...reservation, status };
  }

  private async countOutcome<T>(strategy: StrategyName, hold: () => Promise<T>): Promise<T> {
    try {
      return await hold();
    } catch (error) {
      if (error instanceof SoldOut) this.telemetry.count('SoldOut', strategy);
      else if (error instanceof BuyerLimitExceeded) this.telemetry.count('BuyerLimitExceeded', strategy);
      else if (error instanceof Contention) this.telemetry.count('ContentionExhausted', strategy);
      throw error;
    }
  }
}
