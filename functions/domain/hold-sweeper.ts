import type { Clock } from './clock';
import { ConcurrencyLimiter } from './concurrency-limiter';
import type { DueReservation, QueueDecisions, ReservationRepository, SweepRepository } from './ports';

/**
 * Inventory that heals itself: expired holds come back, interrupted holds are undone, queued
 * requests never decided are turned down, with nobody touching them. On AWS a function runs this
 * every minute (EventBridge); `npm start` runs the same code every few seconds. Every transition is conditional (`status = HELD AND
 * expiresAt <= :now`; a PENDING reservation's stage), so two sweeps at once, a sweep that
 * crashes half-way and a confirm or release racing it at the expiry boundary each return
 * tickets exactly once.
 */
export interface SweepReport {
  /** Reservations the index listed as due (some may have moved on since). */
  readonly due: number;
  readonly expired: number;
  readonly ticketsReturned: number;
  readonly repaired: number;
  /** `queued` requests still undecided at their decision timeout, REJECTED (not_decided). */
  readonly rejected: number;
  /** Per expired hold this sweep returned: ms from its expiry to its return. */
  readonly lagsMs: readonly number[];
  /** Of what was due, the longest overdue (ms), whether or not this sweep settled it; 0 when nothing was. */
  readonly oldestDueMs: number;
  /** Index shards that could not be read and reservations that could not be settled (the next sweep tries them again). */
  readonly failed: number;
  /** The first of those failures: the handler logs it. */
  readonly firstFailure?: unknown;
  readonly startedAt: number;
  readonly tookMs: number;
}

/**
 * Reservations settled at once: bounded, so a large backlog does not flood the table. A slot is
 * taken again as soon as its reservation is settled, and the index is read on meanwhile: under
 * load every call is slow, and one slow call then holds up only its own slot, not a whole batch.
 */
const settlingAtOnce = 16;

export class HoldSweeper {
  constructor(
    private readonly index: SweepRepository,
    private readonly reservations: ReservationRepository,
    private readonly queue: Pick<QueueDecisions, 'rejectUndecided'>,
    private readonly clock: Clock,
  ) {}

  async sweep(): Promise<SweepReport> {
    const startedAt = this.clock.now();
    const totals = { due: 0, expired: 0, ticketsReturned: 0, repaired: 0, rejected: 0, oldestDueMs: 0, failed: 0 };
    const lagsMs: number[] = [];
    let firstFailure: unknown;
    const failure = (error: unknown) => {
      totals.failed++;
      firstFailure ??= error;
    };
    const count = (outcome: Settled) => {
      if (outcome.kind === 'expired') {
        totals.expired++;
        totals.ticketsReturned += outcome.tickets;
        lagsMs.push(outcome.lagMs);
      } else if (outcome.kind === 'repaired') totals.repaired++;
      else if (outcome.kind === 'rejected') totals.rejected++;
    };
    const settling = new ConcurrencyLimiter(settlingAtOnce);
    // Each shard's due reservations are settled as soon as that shard's query has answered (all of
    // its pages), while other shards are still being queried. A failure (a throttled shard, an
    // unreachable table) is counted and the rest carry on: what this sweep did still comes back
    // and is reported; the next sweep tries the failed ones again.
    await Promise.all(
      this.index.due(startedAt).map(async (page) => {
        const batch = await page.catch((error: unknown) => {
          failure(error);
          return [];
        });
        totals.due += batch.length;
        for (const { sweepAt } of batch) totals.oldestDueMs = Math.max(totals.oldestDueMs, startedAt - sweepAt);
        await Promise.all(batch.map((due) => settling.run(() => this.settle(due)).then(count, failure)));
      }),
    );
    return { ...totals, ...(firstFailure !== undefined && { firstFailure }), lagsMs, startedAt, tookMs: this.clock.now() - startedAt };
  }

  /** One due reservation, read fresh: the index may lag behind a confirm or a release. */
  private async settle({ reservationId }: DueReservation): Promise<Settled> {
    const now = this.clock.now();
    const reservation = await this.reservations.find(reservationId);
    if (reservation?.status === 'HELD' && reservation.expiresAt <= now) {
      const result = await this.reservations.expire(reservation, now);
      // The lag ends when the tickets are back: after the read and the return, not when this settle began.
      if (result.kind === 'done') return { kind: 'expired', tickets: reservation.quantity, lagMs: this.clock.now() - reservation.expiresAt };
    } else if (reservation?.status === 'PENDING' && (await this.index.repairPending(reservation, now))) {
      return { kind: 'repaired' };
    } else if (reservation?.status === 'QUEUED' && (await this.queue.rejectUndecided(reservation, now))) {
      // Never decided in time (its log entry lost, or poisoned): turned down, its tally back.
      return { kind: 'rejected' };
    }
    return { kind: 'nothing' };
  }
}

type Settled = { readonly kind: 'expired'; readonly tickets: number; readonly lagMs: number } | { readonly kind: 'repaired' | 'rejected' | 'nothing' };
