import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BuyerLimitExceeded } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, ShardTake, TicketEvent } from '../../domain/model';
import { conditionFailureItem, isConditionalCheckFailed } from '../dynamodb-errors';
import { addToBuyerTally, subtractFromBuyerTally } from '../items/buyer-tally-item';
import { deletePendingHold, fromReservationItem, markHeld, putNewReservation, toReservationItem } from '../items/reservation-item';
import { findReservation, type StrategyDeps } from './strategy-deps';

/**
 * A hold made of separate conditional writes, for the strategies that take tickets with a
 * single-item write (`conditional`, `optimistic`):
 *
 *   1. claim the reservation id as PENDING (`attribute_not_exists`): a replay of the same
 *      Idempotency-Key stops here and waits for the first request's outcome, so replays
 *      never take tickets or buyer allowance;
 *   2. count the tickets against the buyer (`tickets + qty <= max`);
 *   3. take the tickets (the strategy's own write, passed in);
 *   4. mark the reservation HELD.
 *
 * A refused step undoes the earlier ones. Not atomic: a crash between steps leaves a PENDING
 * reservation and possibly tickets out of inventory with no hold (lost, never oversold,
 * because every step is conditional). The audit reports both. See README "Consistency".
 */
export async function holdInSteps(
  deps: StrategyDeps,
  event: TicketEvent,
  hold: HoldRequest,
  take: ShardTake,
  takeTickets: () => Promise<void>,
): Promise<HoldOutcome> {
  const { db, tableName, retrier } = deps;
  const pending = toReservationItem(event.eventId, hold, [take], 'PENDING');
  const existing = await claim(deps, pending, hold.deadline);
  if (existing) return { kind: 'existing', reservation: existing };

  const forgetClaim = () => retrier.runToCompletion(() => db.send(new DeleteCommand(deletePendingHold(tableName, hold.reservationId))));
  try {
    await retrier.run(() => db.send(new UpdateCommand(addToBuyerTally(tableName, event.eventId, hold.buyerId, hold.quantity, event.maxPerBuyer))));
  } catch (error) {
    await undo(error, forgetClaim);
    if (!isConditionalCheckFailed(error)) throw error;
    const tickets = conditionFailureItem(error)?.tickets;
    throw new BuyerLimitExceeded(event.maxPerBuyer, tickets === undefined ? undefined : Number(tickets));
  }

  try {
    await takeTickets();
  } catch (error) {
    await undo(error, async () => {
      await retrier.runToCompletion(() => db.send(new UpdateCommand(subtractFromBuyerTally(tableName, event.eventId, hold.buyerId, hold.quantity))));
      await forgetClaim();
    });
    throw error;
  }

  await retrier.runToCompletion(() => db.send(new UpdateCommand(markHeld(tableName, hold.reservationId))));
  return { kind: 'created', reservation: fromReservationItem({ ...pending, status: 'HELD' }) };
}

/**
 * Create the PENDING reservation. If the id is taken, return the settled reservation, or
 * wait (bounded backoff) while another request with the same key is still in its steps;
 * if that request gave up and removed its claim, claim it ourselves.
 */
async function claim(deps: StrategyDeps, item: ReturnType<typeof toReservationItem>, deadline: number) {
  const { db, tableName, retrier } = deps;
  for (let attempt = 1; ; attempt++) {
    try {
      await retrier.run(() => db.send(new PutCommand(putNewReservation(tableName, item))));
      return undefined;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    // DynamoDB Local ignores ReturnValuesOnConditionCheckFailure on PutItem, so read it.
    const current = await findReservation(deps, item.reservationId);
    if (current && current.status !== 'PENDING') return current;
    if (attempt >= retrier.policy.maxAttempts) throw retrier.exhausted('conflict', attempt);
    if (current) await retrier.pauseWithin(deadline, attempt, 'conflict', attempt);
  }
}

/** Run a compensation; if it fails too, say so loudly (tickets may now be lost until repaired). */
async function undo(original: unknown, compensate: () => Promise<unknown>): Promise<void> {
  try {
    await compensate();
  } catch (compensationError) {
    throw new AggregateError(
      [original, compensationError],
      'A refused hold could not be fully undone; the audit reports what is left (a PENDING reservation or lost tickets).',
    );
  }
}
