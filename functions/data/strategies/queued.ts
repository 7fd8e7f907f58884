import { randomUUID } from 'node:crypto';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { BuyerLimitExceeded } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import { cancellationReasons } from '../dynamodb-errors';
import { addToBuyerTally } from '../items/buyer-tally-item';
import { toQueueEntryItem } from '../items/queue-entry-item';
import { fromReservationItem, putNewReservation, toReservationItem } from '../items/reservation-item';
import { retryReason } from '../retrier';
import { findReservation, refuseIfSoldOut, type StrategyDeps } from './strategy-deps';

/**
 * `queued`: first come, first served. A request does not race for tickets: it is written, in
 * arrival order, to the event's log (a log entry item in the table, read in order through the
 * table's stream), and answered QUEUED; a consumer decides the log a batch at a time, in order,
 * taking a whole batch's tickets from the inventory in one transaction (queue-decisions.ts).
 *
 * Here, at the door: refuse without writing if the event is sold out (a read), then one
 * transaction: the reservation (QUEUED; `attribute_not_exists`, so a replay finds it), the
 * buyer's tally (`tickets + qty <= max`: a buyer over the limit is told at once, and a queued
 * request already counts, so a buyer cannot queue past the limit), and the log entry.
 */
export class QueuedStrategy implements ReservationStrategy {
  readonly name = 'queued' as const;

  constructor(private readonly deps: StrategyDeps) {}

  async hold(event: TicketEvent, request: HoldRequest): Promise<HoldOutcome> {
    const { deps } = this;
    await refuseIfSoldOut(deps, this.name, event, deps.views.of(event), request.quantity);
    const reservation = toReservationItem(event.eventId, request, [], 'QUEUED');
    for (let attempt = 1; ; attempt++) {
      try {
        await deps.db.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { ...putNewReservation(deps.tableName, reservation), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
              {
                Update: {
                  ...addToBuyerTally(deps.tableName, event.eventId, request.buyerId, request.quantity, event.maxPerBuyer),
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              { Put: { TableName: deps.tableName, Item: toQueueEntryItem(event.eventId, event.shards, request) } },
            ],
            ClientRequestToken: randomUUID(),
          }),
        );
        return { kind: 'created', reservation: fromReservationItem(reservation) };
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (reasons?.[0]?.code === 'ConditionalCheckFailed') {
          const existing = reasons[0].item ? fromReservationItem(reasons[0].item) : await findReservation(deps, request.reservationId);
          if (existing) return { kind: 'existing', reservation: existing };
        } else if (reasons?.[1]?.code === 'ConditionalCheckFailed') {
          const tickets = reasons[1].item?.tickets;
          throw new BuyerLimitExceeded(event.maxPerBuyer, tickets === undefined ? undefined : Number(tickets));
        }
        const reason = retryReason(error);
        if (!reason) throw error;
        if (attempt >= deps.retrier.policy.maxAttempts) throw deps.retrier.exhausted(reason, attempt);
        deps.telemetry.count('Conflict', this.name);
        await deps.retrier.pauseWithin(request.deadline, attempt, reason, attempt);
      }
    }
  }
}
