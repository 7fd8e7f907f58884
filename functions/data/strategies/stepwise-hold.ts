import { DeleteCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { BuyerLimitExceeded, Contention, ThroughputExceeded } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, PendingStage, ShardTake, TicketEvent } from '../../domain/model';
import { cancellationReasons, isConditionalCheckFailed } from '../dynamodb-errors';
import { addToBuyerTally, subtractFromBuyerTally } from '../items/buyer-tally-item';
import {
  deletePendingHold,
  fromReservationItem,
  markHeld,
  markTallied,
  type PendingClaim,
  putNewReservation,
  toPendingReservationItem,
} from '../items/reservation-item';
import { findReservation, type StrategyDeps } from './strategy-deps';

/**
 * A hold made of steps, for the strategies whose point is how they take tickets from the one
 * inventory item (`conditional`: a condition on the count; `optimistic`: a version check). The
 * reservation is a small state machine, and every step is conditional on the stage before it:
 *
 *   1. claim the reservation id: PENDING, stage `claimed` (`attribute_not_exists`); a replay
 *      of the same Idempotency-Key stops here and waits for the first request's outcome, so
 *      replays never take tickets or buyer allowance;
 *   2. count the tickets against the buyer (`tickets + qty <= max`), in one transaction with
 *      stage `claimed` → `tallied`;
 *   3. take the tickets (the strategy's own write on the inventory item), in one transaction
 *      with `tallied` → HELD.
 *
 * So tickets only ever leave inventory together with the reservation that holds them: an
 * interrupted hold (a crash, a cut-off Lambda) is a PENDING reservation that holds no tickets,
 * whose stage says exactly what to undo (the tally, when `tallied`). A refused step undoes the
 * earlier ones; the sweeper undoes an interrupted hold once it is due (HoldRequest.repairAt),
 * with the same stage conditions, so an undo and a repair never both happen, and a late step of
 * a hold that was repaired fails instead of acting on a reservation that is gone, or on a later
 * request's claim of the same id (every step is conditional on this attempt's `claimId`).
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
 */

/** The reservation's part of step 3: the strategy sends it in one transaction with its take. */
export type HeldMarker = ReturnType<typeof markHeld>;

/**
 * What the strategy's take reports: done, or refused by its inventory condition (the caller
 * undoes and rethrows the strategy's error). Anything else it throws is an unknown outcome.
 */
export type TakeTickets = (marker: HeldMarker) => Promise<void>;

/** A hold whose reservation left the stage this step expected: the sweeper repaired it meanwhile. */
class HoldInterrupted extends Contention {}

export async function holdInSteps(deps: StrategyDeps, event: TicketEvent, hold: HoldRequest, take: ShardTake, takeTickets: TakeTickets): Promise<HoldOutcome> {
  const pending = toPendingReservationItem(event.eventId, hold, [take]);
  const existing = await claim(deps, pending, hold.deadline);
  if (existing) return { kind: 'existing', reservation: existing };
  const claimed = { ...hold, claimId: pending.claimId };

  await countAgainstBuyer(deps, event, claimed);

  try {
    await takeTickets(markHeld(deps.tableName, claimed, hold.expiresAt));
  } catch (error) {
    // A timeout may hide a take that happened: the reservation says which.
    const settled = await settledReservation(deps, hold);
    if (settled) return settled;
    if (await undo(error, () => forgetTallied(deps, event, claimed))) throw error;
    // It left `tallied` under this attempt between the read and the undo: a take still in flight
    // when its call gave up has landed since, or the sweeper repaired this attempt.
    const late = await settledReservation(deps, hold);
    if (late) return late;
    throw interruptedIfRepaired(error);
  }
  return { kind: 'created', reservation: fromReservationItem({ ...pending, status: 'HELD', sweepAt: hold.expiresAt }) };
}

/**
 * The reservation once it is no longer PENDING: this attempt's hold if its creation time is this
 * attempt's (HELD, or already confirmed or released by a replay of the key that found it), or,
 * if the sweeper repaired this attempt and a later request with the key made the hold, that
 * request's, of which this one is then a replay.
 */
async function settledReservation(deps: StrategyDeps, hold: HoldRequest): Promise<HoldOutcome | undefined> {
  const now = await findReservation(deps, hold.reservationId);
  if (!now || now.status === 'PENDING') return undefined;
  return { kind: now.createdAt === hold.createdAt ? 'created' : 'existing', reservation: now };
}

/** Step 2: the tally and the stage move together, so the stage always says whether the tally counts this hold. */
async function countAgainstBuyer(deps: StrategyDeps, event: TicketEvent, hold: HoldRequest & PendingClaim): Promise<void> {
  const { db, tableName, retrier } = deps;
  try {
    await retrier.run(() =>
      db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                ...addToBuyerTally(tableName, event.eventId, hold.buyerId, hold.quantity, event.maxPerBuyer),
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            { Update: markTallied(tableName, hold) },
          ],
        }),
      ),
    );
  } catch (error) {
    const reasons = cancellationReasons(error);
    const stageMoved = reasons?.[1]?.code === 'ConditionalCheckFailed';
    const tally = reasons?.[0]?.code === 'ConditionalCheckFailed' && !stageMoved ? reasons[0] : undefined;
    const tallied = tally?.item?.tickets;
    const refusal = tally && new BuyerLimitExceeded(event.maxPerBuyer, tallied === undefined ? undefined : Number(tallied));
    // Refused by the buyer's limit, or an unknown outcome: the claim is undone if it is still only claimed.
    if (!stageMoved && (await undo(refusal ?? error, () => forgetClaimed(deps, hold)))) throw refusal ?? error;
    // The reservation is no longer `claimed` under this attempt. Either this very step took
    // effect and its answer was lost (the SDK gave up, and the retrier's new send, with a new
    // token, found the stage moved, or the outcome is unknown): then the hold goes on. Or the
    // sweeper repaired this attempt meanwhile.
    const now = await findReservation(deps, hold.reservationId);
    if (now?.status === 'PENDING' && now.pendingStage === 'tallied' && now.claimId === hold.claimId) return;
    throw refusal ?? new HoldInterrupted(1, 1);
  }
}

/** What undoing a stage needs: the sweeper uses it too. */
type TableAccess = Pick<StrategyDeps, 'db' | 'tableName' | 'retrier'>;

/** Undo a `tallied` hold: the tally back and the claim gone, together (a no-op if the sweeper did it first). */
export async function forgetTallied(
  deps: TableAccess,
  event: Pick<TicketEvent, 'eventId'>,
  hold: PendingClaim & Pick<HoldRequest, 'buyerId' | 'quantity'>,
  dueBy?: number,
): Promise<boolean> {
  return undoStage(deps, hold, 'tallied', dueBy, [{ Update: subtractFromBuyerTally(deps.tableName, event.eventId, hold.buyerId, hold.quantity) }]);
}

/** Undo a `claimed` hold: nothing but the claim to remove. */
export function forgetClaimed(deps: TableAccess, claim: PendingClaim, dueBy?: number): Promise<boolean> {
  return undoStage(deps, claim, 'claimed', dueBy, []);
}

/** True if this call undid it; false if the reservation had left that stage (done, or undone by someone else). */
async function undoStage(deps: TableAccess, claim: PendingClaim, stage: PendingStage, dueBy: number | undefined, alsoUndo: object[]): Promise<boolean> {
  const remove = deletePendingHold(deps.tableName, claim, stage, dueBy);
  try {
    await deps.retrier.runToCompletion<unknown>(() =>
      alsoUndo.length === 0
        ? deps.db.send(new DeleteCommand(remove))
        : deps.db.send(new TransactWriteCommand({ TransactItems: [{ Delete: remove }, ...alsoUndo] })),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error) || cancellationReasons(error)?.[0]?.code === 'ConditionalCheckFailed') return false;
    throw error;
  }
}

/**
 * Create the PENDING reservation. If the id is taken, return the settled reservation, or
 * wait (bounded backoff) while another request with the same key is still in its steps;
 * if that request gave up and removed its claim, claim it ourselves. A PENDING reservation with
 * this attempt's claimId is this attempt's own claim.
 */
async function claim(deps: StrategyDeps, item: ReturnType<typeof toPendingReservationItem>, deadline: number) {
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
    // Our own put, whose answer was lost and whose retry (the SDK's) then found it: the claim is ours.
    if (current?.claimId === item.claimId) return undefined;
    if (attempt >= retrier.policy.maxAttempts) throw retrier.exhausted('conflict', attempt);
    if (current) await retrier.pauseWithin(deadline, attempt, 'conflict', attempt);
  }
}

/**
 * Run a compensation and return what it says (true: this call undid the step). If it runs out of
 * retries (throttled, contended), the answer stays the original one: a refusal is still a refusal
 * (no ticket was taken), a throttle still a 503; what is left PENDING the sweeper repairs once it
 * is due, and counts (HoldsRepaired). Any other failure (a missing permission, a bug) is loud: a
 * 500 whose log carries both errors.
 */
async function undo(original: unknown, compensate: () => Promise<boolean>): Promise<boolean> {
  try {
    return await compensate();
  } catch (compensationError) {
    if (compensationError instanceof Contention || compensationError instanceof ThroughputExceeded) throw original;
    throw new AggregateError([original, compensationError], 'A refused hold could not be undone; its reservation stays PENDING until the sweeper repairs it.');
  }
}

/** A take transaction's cancellation: was it the inventory's condition (index 0) that failed? */
export function inventoryRefused(error: unknown): boolean {
  return cancellationReasons(error)?.[0]?.code === 'ConditionalCheckFailed';
}

/** A take transaction that lost its reservation's stage (index 1): the hold was repaired meanwhile. */
export function interruptedIfRepaired(error: unknown): unknown {
  return cancellationReasons(error)?.[1]?.code === 'ConditionalCheckFailed' ? new HoldInterrupted(1, 1) : error;
}
