import { type DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Reservation } from '../domain/model';
import type { ReservationRepository, Transition } from '../domain/ports';
import { ConsistentGetBatcher } from './consistent-get-batcher';
import { cancellationReasons, conditionFailureItem, isConditionalCheckFailed } from './dynamodb-errors';
import { subtractFromBuyerTally } from './items/buyer-tally-item';
import { returnToShard } from './items/inventory-item';
import { confirmHold, type Finish, finishHold, fromReservationItem, reservationKey } from './items/reservation-item';
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

  async confirm(reservationId: string, buyerId: string, now: number): Promise<Transition> {
    try {
      const { Attributes } = await this.retrier.run(() =>
        this.db.send(
          new UpdateCommand({
            ...confirmHold(this.tableName, reservationId, buyerId, now),
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { kind: 'done', reservation: fromReservationItem(Attributes!) };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const returned = conditionFailureItem(error);
      return this.refusal(reservationId, returned ? fromReservationItem(returned) : undefined, buyerId);
    }
  }

  async release(reservationId: string, buyerId: string, now: number): Promise<Transition> {
    const current = await this.find(reservationId);
    // Someone else's reservation does not exist for this caller.
    if (!current || current.buyerId !== buyerId) return { kind: 'missing' };
    return this.finish(current, { outcome: 'RELEASED', buyerId }, now);
  }

  expire(reservation: Reservation, now: number): Promise<Transition> {
    return this.finish(reservation, { outcome: 'EXPIRED' }, now);
  }

  private async finish(current: Reservation, finish: Finish, now: number): Promise<Transition> {
    const { outcome } = finish;
    const { reservationId } = current;
    const buyerId = outcome === 'RELEASED' ? finish.buyerId : undefined;
    const live = now < current.expiresAt;
    if (current.status !== 'HELD' || live !== (outcome === 'RELEASED')) return { kind: 'refused', current };
    try {
      await this.retrier.run(() =>
        this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              { Update: finishHold(this.tableName, reservationId, finish, now) },
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
      return this.refusal(reservationId, undefined, buyerId);
    }
  }

  /** What a refused transition found; another buyer's reservation is reported missing. */
  private async refusal(reservationId: string, returned: Reservation | undefined, buyerId: string | undefined): Promise<Transition> {
    const current = returned ?? (await this.find(reservationId));
    if (!current || (buyerId !== undefined && current.buyerId !== buyerId)) return { kind: 'missing' };
    return { kind: 'refused', current };
  }
}
