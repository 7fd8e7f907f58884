import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { queueReturnBins, type RejectionReason, type Reservation, type TicketEvent } from '../domain/model';
import type { QueueDecisions, QueueDecisionTally, QueuedRequest } from '../domain/ports';
import { cancellationReasons } from './dynamodb-errors';
import { subtractFromBuyerTally } from './items/buyer-tally-item';
import { fromInventoryItem, inventoryKey, returnToShard, takeFromShard } from './items/inventory-item';
import { decideHeld, rejectQueued, reservationKey } from './items/reservation-item';
import { consistentBatchGet, consistentGet, maxBatchGetKeys } from './reads';
import { type Retrier, retryReason } from './retrier';

/** Rejections written at once: each is its own small transaction, on keys nobody else writes. */
const rejectionsAtOnce = 16;

/**
 * Decides a `queued` event's log entries in order: the earliest entries that fit win. Winners
 * are decided a chunk at a time in ONE transaction: the stock item gives the chunk's total
 * (`available >= :total`) and each winner's reservation goes QUEUED → HELD (`status = QUEUED`,
 * so a redelivered entry decides nothing twice). The hot item pays one write per chunk (up to
 * maxTransactionItems − 1 holds: 99 on AWS, 9 on DynamoDB Local), not one per hold; tickets that
 * come back wait in return bins until the stock runs short and a fold moves them in. An entry
 * that does not fit, after the fold, is REJECTED (sold_out) and its tally given back, once the
 * chunk before it is written: never on a guess. A crash anywhere leaves entries QUEUED, to be decided again
 * when the stream delivers them again (or rejected by the sweeper if they never are).
 */
export class DynamoQueueDecisions implements QueueDecisions {
  constructor(
    readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
    readonly retrier: Retrier,
    private readonly maxTransactionItems: number,
  ) {}

  async decide(event: TicketEvent, entries: readonly QueuedRequest[], now: () => number): Promise<QueueDecisionTally> {
    const tally = { held: 0, ticketsHeld: 0, rejected: 0, alreadyDecided: 0, chunks: 0 };
    const maxWinners = this.maxTransactionItems - 1;
    const stillQueued = await this.stillQueued(entries);
    tally.alreadyDecided += entries.length - stillQueued.length;
    let pending = stillQueued;
    for (let attempt = 1; pending.length > 0; ) {
      let remaining = await this.available(event);
      if (demandOf(pending, maxWinners) > remaining) {
        // Returned tickets wait in the return bins: fold them in before turning anyone down, then
        // read the stock again even if this fold moved nothing: another log key's consumer may
        // have folded the same bins into the stock since the read above.
        await this.foldReturnBins(event);
        remaining = await this.available(event);
      }
      const winners: QueuedRequest[] = [];
      const losers: QueuedRequest[] = [];
      let scanned = 0;
      for (const entry of pending) {
        if (winners.length === maxWinners) break;
        scanned++;
        if (entry.quantity <= remaining) {
          winners.push(entry);
          remaining -= entry.quantity;
        } else {
          losers.push(entry);
        }
      }
      const outcome = winners.length === 0 ? { kind: 'written' as const } : await this.holdChunk(event, winners, now());
      if (outcome.kind === 'written') {
        tally.chunks += winners.length > 0 ? 1 : 0;
        tally.held += winners.length;
        tally.ticketsHeld += winners.reduce((sum, entry) => sum + entry.quantity, 0);
        const rejected = await this.reject(event, losers, now);
        tally.rejected += rejected;
        tally.alreadyDecided += losers.length - rejected;
        pending = pending.slice(scanned);
        attempt = 1;
      } else if (outcome.kind === 'decidedBefore') {
        // A redelivered entry (or one the sweeper timed out): drop it and decide the rest again.
        pending = pending.filter((entry) => entry.reservationId !== outcome.reservationId);
        tally.alreadyDecided++;
      } else {
        // A conflict or throttle, or the inventory changed since the read (another log key's
        // consumer took tickets): read again and redo this chunk, a bounded number of times.
        const reason = outcome.kind === 'retry' ? outcome.reason : 'conflict';
        if (attempt >= this.retrier.policy.maxAttempts * 3) throw this.retrier.exhausted(reason, attempt);
        if (outcome.kind === 'retry') await this.retrier.pause(Math.min(attempt, this.retrier.policy.maxAttempts));
        attempt++;
      }
    }
    return tally;
  }

  /**
   * The entries whose reservation is still QUEUED, in order: a redelivered batch (after a crash,
   * a timeout or a partial failure) costs one batched read per 100 entries, not a failed
   * transaction per entry already decided.
   */
  private async stillQueued(entries: readonly QueuedRequest[]): Promise<QueuedRequest[]> {
    const queued = new Set<string>();
    for (let start = 0; start < entries.length; start += maxBatchGetKeys) {
      const keys = entries.slice(start, start + maxBatchGetKeys).map((entry) => reservationKey(entry.reservationId));
      for (const item of await consistentBatchGet(this.db, this.tableName, keys, this.retrier)) {
        if (item.status === 'QUEUED') queued.add(String(item.reservationId));
      }
    }
    return entries.filter((entry) => queued.has(entry.reservationId));
  }

  private async available(event: TicketEvent): Promise<number> {
    const item = await consistentGet(this.db, this.tableName, inventoryKey(event.eventId, 0), this.retrier);
    if (!item) throw new Error(`Inventory of event ${event.eventId} is missing`);
    return Number(item.available);
  }

  /**
   * Moves the tickets in the event's return bins into its stock, up to maxTransactionItems − 1
   * bins per transaction: each bin `available >= :x` (so two consumers folding at once cannot
   * move a ticket twice), the stock `+ sum`. A bin another consumer emptied first cancels that
   * transaction, and with it the other bins it would have moved (tickets that came back after that
   * consumer read the bins): read the bins again and fold what is left, until a fold goes through
   * or the bins are empty, so no request is turned down while a ticket this consumer saw waits in
   * a bin.
   */
  private async foldReturnBins(event: TicketEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (await this.foldOnce(event)) return;
      if (attempt >= this.retrier.policy.maxAttempts * 3) throw this.retrier.exhausted('conflict', attempt);
    }
  }

  /** One fold of the bins as read now; false if a concurrent fold cancelled part of it. */
  private async foldOnce(event: TicketEvent): Promise<boolean> {
    const keys = Array.from({ length: queueReturnBins }, (_, bin) => inventoryKey(event.eventId, bin + 1));
    const bins = (await consistentBatchGet(this.db, this.tableName, keys, this.retrier)).map(fromInventoryItem).filter((bin) => bin.available > 0);
    let folded = true;
    for (let start = 0; start < bins.length; start += this.maxTransactionItems - 1) {
      const takes = bins.slice(start, start + this.maxTransactionItems - 1).map((bin) => ({ shard: bin.shard, quantity: bin.available }));
      const total = takes.reduce((sum, take) => sum + take.quantity, 0);
      try {
        await this.retrier.runToCompletion(() =>
          this.db.send(
            new TransactWriteCommand({
              TransactItems: [
                { Update: returnToShard(this.tableName, event.eventId, { shard: 0, quantity: total }) },
                ...takes.map((take) => ({ Update: takeFromShard(this.tableName, event.eventId, take) })),
              ],
            }),
          ),
        );
      } catch (error) {
        if (!cancellationReasons(error)?.some((reason) => reason.code === 'ConditionalCheckFailed')) throw error;
        folded = false;
      }
    }
    return folded;
  }

  private async holdChunk(event: TicketEvent, winners: readonly QueuedRequest[], now: number): Promise<ChunkOutcome> {
    const total = winners.reduce((sum, entry) => sum + entry.quantity, 0);
    const expiresAt = now + event.holdSeconds * 1000;
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: inventoryKey(event.eventId, 0),
                UpdateExpression: 'SET #available = #available - :total ADD #version :one',
                ConditionExpression: '#available >= :total',
                ExpressionAttributeNames: { '#available': 'available', '#version': 'version' },
                ExpressionAttributeValues: { ':total': total, ':one': 1 },
              },
            },
            ...winners.map((entry) => ({ Update: decideHeld(this.tableName, entry.reservationId, entry.quantity, now, expiresAt) })),
          ],
          ClientRequestToken: randomUUID(),
        }),
      );
      return { kind: 'written' };
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons?.[0]?.code === 'ConditionalCheckFailed') return { kind: 'inventoryChanged' };
      const decided = reasons?.findIndex((reason, index) => index > 0 && reason.code === 'ConditionalCheckFailed') ?? -1;
      if (decided > 0) return { kind: 'decidedBefore', reservationId: winners[decided - 1]!.reservationId };
      const reason = retryReason(error);
      if (!reason) throw error;
      return { kind: 'retry', reason };
    }
  }

  async rejectUndecided(reservation: Reservation, now: number): Promise<boolean> {
    return (await this.rejectOne(reservation.eventId, reservation, 'not_decided', now, now)) === 1;
  }

  private rejectOne(
    eventId: string,
    request: Pick<QueuedRequest, 'reservationId' | 'buyerId' | 'quantity'>,
    reason: RejectionReason,
    now: number,
    dueBy?: number,
  ) {
    return rejectOneIn(this, eventId, request, reason, now, dueBy);
  }

  /** Sold out for these: each REJECTED with its tally given back, together. Returns how many this call rejected. */
  private async reject(event: TicketEvent, losers: readonly QueuedRequest[], now: () => number): Promise<number> {
    let rejected = 0;
    for (let start = 0; start < losers.length; start += rejectionsAtOnce) {
      const results = await Promise.all(losers.slice(start, start + rejectionsAtOnce).map((entry) => this.rejectOne(event.eventId, entry, 'sold_out', now())));
      rejected += results.reduce<number>((sum, one) => sum + one, 0);
    }
    return rejected;
  }
}

/** Tickets the next chunk could give: the quantities of its first `maxWinners` entries. */
function demandOf(pending: readonly QueuedRequest[], maxWinners: number): number {
  return pending.slice(0, maxWinners).reduce((sum, entry) => sum + entry.quantity, 0);
}

/** One REJECTED with its tally back, in one transaction; 0 if it was no longer QUEUED (or not yet due, with `dueBy`). */
async function rejectOneIn(
  deps: { db: DynamoDBDocumentClient; tableName: string; retrier: Retrier },
  eventId: string,
  request: Pick<QueuedRequest, 'reservationId' | 'buyerId' | 'quantity'>,
  reason: RejectionReason,
  now: number,
  dueBy?: number,
): Promise<0 | 1> {
  try {
    await deps.retrier.runToCompletion(() =>
      deps.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: rejectQueued(deps.tableName, request.reservationId, reason, now, dueBy) },
            { Update: subtractFromBuyerTally(deps.tableName, eventId, request.buyerId, request.quantity) },
          ],
        }),
      ),
    );
    return 1;
  } catch (error) {
    if (cancellationReasons(error)?.[0]?.code === 'ConditionalCheckFailed') return 0;
    throw error;
  }
}

type ChunkOutcome =
  | { readonly kind: 'written' }
  | { readonly kind: 'inventoryChanged' }
  | { readonly kind: 'decidedBefore'; readonly reservationId: string }
  | { readonly kind: 'retry'; readonly reason: 'conflict' | 'throttle' };
