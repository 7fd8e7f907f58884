import { type DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Reservation } from '../domain/model';
import type { ReservationRepository, Transition } from '../domain/ports';
import { ConsistentGetBatcher } from './consistent-get-batcher';
import { cancellationReasons, conditionFailureItem, isConditionalCheckFailed } from './dynamodb-errors';
import { subtractFromBuyerTally } from './items/buyer-tally-item';
import { returnToShard } from './items/inventory-item';
import { confirmHold, finishHold, fromReservationItem, reservationKey } from './items/reservation-item';
import type { Retrier } from './retrier';

/**
 * Reservation state changes. Confirm is one conditional write. Release and expiry are one
 * transaction each: the reservation leaves HELD (condition `status = HELD`), its tickets go
 * back to the shards they came from and leave the buyer's tally. The condition makes a
 * second release, a release racing an expiry, or a sweeper running twice change nothing.
 * These are the same for every strategy: only the hot path (the hold) differs.
 */
export class DynamoReservationRepository implements ReservationRepository {
  private readonly reads: ConsistentGetBatcher;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retrier: Retrier,
  ) {
    this.reads = new ConsistentGetBatcher(db, tableName, retrier);
  }

  async find(reservationId: string): Promise<Reservation | undefined> {
    const item = await this.reads.get(reservationKey(reservationId));
    return item ? fromReservationItem(item) : undefined;
  }

  async confirm(reservationId: string, now: number): Promise<Transition> {
    try {
      const { Attributes } = await this.retrier.run(() =>
        this.db.send(
          new UpdateCommand({
            ...confirmHold(this.tableName, reservationId, now),
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { kind: 'done', reservation: fromReservationItem(Attributes!) };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const returned = conditionFailureItem(error);
      return this.refusal(reservationId, returned ? fromReservationItem(returned) : undefined);
    }
  }

  release(reservationId: string, now: number): Promise<Transition> {
    return this.finish(reservationId, 'RELEASED', now);
  }

  expire(reservationId: string, now: number): Promise<Transition> {
    return this.finish(reservationId, 'EXPIRED', now);
  }

  private async finish(reservationId: string, outcome: 'RELEASED' | 'EXPIRED', now: number): Promise<Transition> {
    const current = await this.find(reservationId);
    if (!current) return { kind: 'missing' };
    const live = now < current.expiresAt;
    if (current.status !== 'HELD' || live !== (outcome === 'RELEASED')) return { kind: 'refused', current };
    try {
      await this.retrier.run(() =>
        this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              { Update: finishHold(this.tableName, reservationId, outcome, now) },
              ...current.takes.map((take) => ({ Update: returnToShard(this.tableName, current.eventId, take) })),
              { Update: subtractFromBuyerTally(this.tableName, current.eventId, current.buyerId, current.quantity) },
            ],
          }),
        ),
      );
      return { kind: 'done', reservation: { ...current, status: outcome } };
    } catch (error) {
      if (cancellationReasons(error)?.[0]?.code !== 'ConditionalCheckFailed') throw error;
      // Someone else changed it first (confirmed, released or expired it): report what it is now.
      return this.refusal(reservationId, undefined);
    }
  }

  private async refusal(reservationId: string, returned: Reservation | undefined): Promise<Transition> {
    const current = returned ?? (await this.find(reservationId));
    return current ? { kind: 'refused', current } : { kind: 'missing' };
  }
}
