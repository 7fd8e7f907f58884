import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BuyerLimitExceeded } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, ShardTake, TicketEvent } from '../../domain/model';
import { conditionFailureItem, isConditionalCheckFailed } from '../dynamodb-errors';
import { addToBuyerTally, subtractFromBuyerTally } from '../items/buyer-tally-item';
import { returnToShard } from '../items/inventory-item';
import { fromReservationItem, putNewReservation, toReservationItem } from '../items/reservation-item';
import { findReservation, type StrategyDeps } from './strategy-deps';

/**
 * The second half of a hold for the strategies that take tickets with a single conditional
 * write (`conditional`, `optimistic`): count them against the buyer, then create the
 * reservation, each step a conditional write of its own. If a step is refused, the earlier
 * steps are undone, so a refused hold gives its tickets back.
 *
 * Not atomic: a crash between steps leaves tickets taken with no reservation (a lost ticket,
 * never an oversell, because the take came first and was conditional). The audit finds it
 * as remaining + held + confirmed < capacity. See README "Consistency of each strategy".
 */
export async function recordHoldAfterTake(
  deps: StrategyDeps,
  event: TicketEvent,
  hold: HoldRequest,
  take: ShardTake,
): Promise<HoldOutcome> {
  const { db, tableName, retrier } = deps;
  const giveTicketsBack = () =>
    retrier.run(() => db.send(new UpdateCommand(returnToShard(tableName, event.eventId, take))));

  try {
    await retrier.run(() =>
      db.send(new UpdateCommand(addToBuyerTally(tableName, event.eventId, hold.buyerId, hold.quantity, event.maxPerBuyer))),
    );
  } catch (error) {
    await undo(error, giveTicketsBack);
    if (!isConditionalCheckFailed(error)) throw error;
    const tickets = conditionFailureItem(error)?.tickets;
    throw new BuyerLimitExceeded(event.maxPerBuyer, tickets === undefined ? undefined : Number(tickets));
  }

  const item = toReservationItem(event.eventId, hold, [take]);
  try {
    await retrier.run(() =>
      db.send(new PutCommand({ ...putNewReservation(tableName, item), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })),
    );
    return { kind: 'created', reservation: fromReservationItem(item) };
  } catch (error) {
    await undo(error, async () => {
      await retrier.run(() =>
        db.send(new UpdateCommand(subtractFromBuyerTally(tableName, event.eventId, hold.buyerId, hold.quantity))),
      );
      await giveTicketsBack();
    });
    if (!isConditionalCheckFailed(error)) throw error;
    // DynamoDB Local ignores ReturnValuesOnConditionCheckFailure on PutItem: read it instead.
    const returned = conditionFailureItem(error);
    const existing = returned ? fromReservationItem(returned) : await findReservation(deps, hold.reservationId);
    if (!existing) throw new Error(`Reservation ${hold.reservationId} existed but vanished`, { cause: error });
    return { kind: 'existing', reservation: existing };
  }
}

/** Run a compensation; if it fails too, say so loudly (tickets are now lost until repaired). */
async function undo(original: unknown, compensate: () => Promise<unknown>): Promise<void> {
  try {
    await compensate();
  } catch (compensationError) {
    throw new AggregateError(
      [original, compensationError],
      'A refused hold could not be undone: tickets are out of inventory without a reservation (the audit reports them as lost).',
    );
  }
}
