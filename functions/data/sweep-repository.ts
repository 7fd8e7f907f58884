import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ConcurrencyLimiter } from '../domain/concurrency-limiter';
import type { Reservation } from '../domain/model';
import type { DueReservation, SweepRepository } from '../domain/ports';
import type { Retrier } from './retrier';
import { forgetClaimed, forgetTallied } from './strategies/stepwise-hold';
import { allSweepShards, soonestInShard } from './sweep-index';

/**
 * Shards queried at once, a new one as soon as one answers. More at once would open more
 * connections at once than DynamoDB Local accepts in time (two tests timed out connecting with 64).
 */
const shardsAtOnce = 16;
/**
 * Index items per Query page. The first page of a shard is small: when nothing is due it returns
 * the one entry that says when something will be, and due entries fill the next, larger pages.
 */
const firstPageSize = 8;
const pageSize = 100;

/** Margin for the index's propagation (it is eventually consistent) and for the writers' clocks. */
const quietSlackMs = 2_000;

/**
 * How soon, at the earliest, an index entry comes due after it is written, less a margin: a hold
 * is due at its expiry, counted from its start (its last step lands up to the hold budget later);
 * a claim at its repair time; a queued request at its decision timeout, and its hold at its
 * expiry counted from the decision. 0 turns skipping off.
 */
export function sweepQuietMs(timings: {
  readonly minHoldMs: number;
  readonly holdBudgetMs: number;
  readonly repairMarginMs: number;
  readonly queueDecisionTimeoutMs: number;
}): number {
  const soonestDue = Math.min(timings.minHoldMs - timings.holdBudgetMs, timings.holdBudgetMs + timings.repairMarginMs, timings.queueDecisionTimeoutMs);
  return Math.max(0, soonestDue - quietSlackMs);
}

/**
 * The sweeper's view of the table: what is due, from the sweep index (sweep-index.ts, a Query
 * per shard: never a scan), and the repair of an interrupted stepwise hold.
 *
 * A shard with nothing due is not queried again before the soonest of its entries comes due, nor
 * before `quietMs` has passed: no reservation enters the index (or moves in it) due sooner than
 * that after it is written (the shortest hold, repair time or decision timeout, less a margin for
 * the index's propagation and the clocks). The local sweeper, every few seconds, so queries a
 * shard once per half to whole `quietMs` instead of every sweep; on AWS a sweep a minute queries
 * them all.
 * Skipping only ever delays a look, by at most `quietMs`, and never hides what is due.
 */
export class DynamoSweepRepository implements SweepRepository {
  /** Per shard: the time before which it has nothing due (0: look every sweep). */
  private readonly quietUntil = new Map<string, number>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retrier: Retrier,
    private readonly quietMs = 0,
    private readonly random: () => number = Math.random,
  ) {}

  due(now: number): readonly Promise<DueReservation[]>[] {
    const querying = new ConcurrencyLimiter(shardsAtOnce);
    return allSweepShards.map((shard) => ((this.quietUntil.get(shard) ?? 0) > now ? Promise.resolve([]) : querying.run(() => this.dueInShard(shard, now))));
  }

  /** Undo an interrupted stepwise hold by the stage it reached, only if it is still there and due. */
  async repairPending(reservation: Reservation, now: number): Promise<boolean> {
    const access = { db: this.db, tableName: this.tableName, retrier: this.retrier };
    return reservation.pendingStage === 'tallied' ? forgetTallied(access, reservation, reservation, now) : forgetClaimed(access, reservation, now);
  }

  private async dueInShard(shard: string, now: number): Promise<DueReservation[]> {
    const due: DueReservation[] = [];
    let nextDueAt: number | undefined;
    let startKey: Record<string, unknown> | undefined;
    do {
      const limit = startKey ? pageSize : firstPageSize;
      const page = await this.retrier.run(() => this.db.send(new QueryCommand(soonestInShard(this.tableName, shard, limit, startKey))));
      startKey = page.LastEvaluatedKey;
      for (const item of page.Items ?? []) {
        const sweepAt = Number(item.sweepAt);
        if (sweepAt > now) {
          nextDueAt = sweepAt;
          startKey = undefined;
          break;
        }
        due.push({ reservationId: String(item.pk).replace(/^RESERVATION#/, ''), sweepAt });
      }
    } while (startKey);
    // A shard that had something due is looked at again next sweep (its settling may fail). The
    // others wait out between half and all of the quiet time, at random: shards looked at in the
    // same sweep (all of them, in the first) must not all come back in the same later one.
    const quietFor = this.quietMs * (0.5 + 0.5 * this.random());
    this.quietUntil.set(shard, due.length > 0 ? 0 : Math.min(nextDueAt ?? Number.POSITIVE_INFINITY, now + quietFor));
    return due;
  }
}
