import { randomUUID } from 'node:crypto';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { BuyerLimitExceeded } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, Reservation, ShardTake, StrategyName, TicketEvent } from '../../domain/model';
import { cancellationReasons, isRetryableReason } from '../dynamodb-errors';
import { addToBuyerTally } from '../items/buyer-tally-item';
import { takeFromShard } from '../items/inventory-item';
import { fromReservationItem, putNewReservation, toReservationItem } from '../items/reservation-item';
import { type RetryReason, retryReason } from '../retrier';
import { findReservation, type StrategyDeps } from './strategy-deps';
import { claimTickets } from './ticket-claims';

/** A hold's transaction has the reservation and the buyer tally besides its shards. */
export function maxShardsPerHold(deps: StrategyDeps): number {
  return deps.maxTransactionItems - 2;
}

export type HoldVerdict =
  | { readonly kind: 'held'; readonly reservation: Reservation }
  | { readonly kind: 'existing'; readonly reservation: Reservation }
  | { readonly kind: 'buyerLimit'; readonly alreadyHeld?: number }
  /** Shards that had fewer tickets than we tried to take; `available` when DynamoDB said. */
  | { readonly kind: 'short'; readonly shortfalls: readonly { take: ShardTake; available?: number }[] }
  | { readonly kind: 'retry'; readonly reason: RetryReason };

/**
 * One all-or-nothing hold: take tickets from the shard(s) (`available >= take`), create the
 * reservation (`attribute_not_exists`), count them against the buyer (`tickets + qty <= max`).
 * If any condition fails nothing is written, so there is no oversell, no double hold and no
 * buyer over the limit, whatever the interleaving.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
 */
async function attemptHoldTransaction(deps: StrategyDeps, event: TicketEvent, hold: HoldRequest, takes: readonly ShardTake[]): Promise<HoldVerdict> {
  const { tableName } = deps;
  const reservationItem = toReservationItem(event.eventId, hold, takes);
  const onFailure = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
  try {
    await deps.db.send(
      new TransactWriteCommand({
        TransactItems: [
          ...takes.map((take) => ({ Update: { ...takeFromShard(tableName, event.eventId, take), ...onFailure } })),
          { Put: { ...putNewReservation(tableName, reservationItem), ...onFailure } },
          {
            Update: {
              ...addToBuyerTally(tableName, event.eventId, hold.buyerId, hold.quantity, event.maxPerBuyer),
              ...onFailure,
            },
          },
        ],
        // Makes the SDK's own retries of this exact call idempotent (e.g. after a timeout).
        ClientRequestToken: randomUUID(),
      }),
    );
    return { kind: 'held', reservation: fromReservationItem(reservationItem) };
  } catch (error) {
    return interpretCancellation(deps, error, takes, hold);
  }
}

async function interpretCancellation(deps: StrategyDeps, error: unknown, takes: readonly ShardTake[], hold: HoldRequest): Promise<HoldVerdict> {
  const reasons = cancellationReasons(error);
  if (!reasons) {
    const reason = retryReason(error);
    // Not a cancellation: the SDK may have retried a transaction that had committed.
    hold.attempts?.markUnclear();
    if (reason) return { kind: 'retry', reason };
    throw error;
  }
  const failed = (index: number) => reasons[index]?.code === 'ConditionalCheckFailed';
  const reservationIndex = takes.length;
  const tallyIndex = takes.length + 1;

  // Precedence: a replay beats everything, then the buyer's limit, then empty shards.
  if (failed(reservationIndex)) {
    const item = reasons[reservationIndex]?.item;
    const existing = item ? fromReservationItem(item) : await findReservation(deps, hold.reservationId);
    return existing ? { kind: 'existing', reservation: existing } : { kind: 'retry', reason: 'conflict' };
  }
  if (failed(tallyIndex)) {
    const tickets = reasons[tallyIndex]?.item?.tickets;
    return { kind: 'buyerLimit', alreadyHeld: tickets === undefined ? undefined : Number(tickets) };
  }
  const shortfalls = takes.flatMap((take, index) => {
    if (!failed(index)) return [];
    const available = reasons[index]?.item?.available;
    return [{ take, available: available === undefined ? undefined : Number(available) }];
  });
  if (shortfalls.length > 0) return { kind: 'short', shortfalls };
  const retryable = reasons.find(isRetryableReason);
  if (retryable) return { kind: 'retry', reason: retryable.code === 'TransactionConflict' ? 'conflict' : 'throttle' };
  throw error;
}

/**
 * The loop `sharded` and `transactional` share: claim tickets in this process's view, try the
 * hold's transaction, act on the verdict. A conflict or throttle backs off and tries again
 * within the hold's budget; what a shard that turned out short means is the strategy's call
 * (`onShort` throws to refuse, or returns to try again).
 */
export async function holdByTransaction(
  deps: StrategyDeps,
  strategy: StrategyName,
  event: TicketEvent,
  request: HoldRequest,
  options: { readonly maxShards: number; readonly onShort: (verdict: Extract<HoldVerdict, { kind: 'short' }>, misses: number) => void },
): Promise<HoldOutcome> {
  const view = deps.views.of(event);
  let conflicts = 0;
  let misses = 0;
  for (;;) {
    const claim = await claimTickets(deps, strategy, event, view, request, options.maxShards);
    try {
      const verdict = await attemptHoldTransaction(deps, event, request, claim.takes);
      switch (verdict.kind) {
        case 'held':
          claim.taken();
          return { kind: 'created', reservation: verdict.reservation };
        case 'existing':
          return { kind: 'existing', reservation: verdict.reservation };
        case 'buyerLimit':
          throw new BuyerLimitExceeded(event.maxPerBuyer, verdict.alreadyHeld);
        case 'short':
          claim.short(verdict.shortfalls);
          options.onShort(verdict, ++misses);
          break;
        case 'retry':
          claim.giveBack();
          if (++conflicts >= deps.retrier.policy.maxAttempts) throw deps.retrier.exhausted(verdict.reason, misses + conflicts);
          deps.telemetry.count('Conflict', strategy);
          await deps.retrier.pauseWithin(request.deadline, conflicts, verdict.reason, misses + conflicts);
          deps.telemetry.count('Retry', strategy);
      }
    } finally {
      claim.giveBack();
    }
  }
}
