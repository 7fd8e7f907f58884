import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ConcurrencyLimiter } from '../domain/concurrency-limiter';
import type { Reservation } from '../domain/model';
import type { DueReservation, SweepRepository } from '../domain/ports';
import type { Retrier } from './retrier';
import { forgetClaimed, forgetTallied } from './strategies/stepwise-hold';
import { allSweepShards, dueInShard } from './sweep-index';

/**
 * Shards queried at once, a new one as soon as one answers: 128 quiet shards in about 8 round
 * trips. More at once would open more connections at once than DynamoDB Local accepts in time
 * (two tests timed out connecting with 64).
 */
const shardsAtOnce = 16;
/** Index items per Query page. */
const pageSize = 100;

/**
 * The sweeper's view of the table: what is due, from the sweep index (sweep-index.ts, a Query
 * per shard: never a scan), and the repair of an interrupted stepwise hold.
 */
export class DynamoSweepRepository implements SweepRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retrier: Retrier,
  ) {}

  due(now: number): readonly Promise<DueReservation[]>[] {
    const querying = new ConcurrencyLimiter(shardsAtOnce);
    return allSweepShards.map((shard) => querying.run(() => this.dueInShard(shard, now)));
  }

  /** Undo an interrupted stepwise hold by the stage it reached, only if it is still there and due. */
  async repairPending(reservation: Reservation, now: number): Promise<boolean> {
    const access = { db: this.db, tableName: this.tableName, retrier: this.retrier };
    return reservation.pendingStage === 'tallied' ? forgetTallied(access, reservation, reservation, now) : forgetClaimed(access, reservation, now);
  }

  private async dueInShard(shard: string, now: number): Promise<DueReservation[]> {
    const due: DueReservation[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.retrier.run(() => this.db.send(new QueryCommand(dueInShard(this.tableName, shard, now, pageSize, startKey))));
      for (const item of page.Items ?? []) due.push({ reservationId: String(item.pk).replace(/^RESERVATION#/, ''), sweepAt: Number(item.sweepAt) });
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return due;
  }
}
