import { randomUUID } from 'node:crypto';
import { TransactWriteCommand, type TransactWriteCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BuyerLimitExceeded, SoldOut } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import { backoffDelay, type Sleep } from '../../domain/retry';
import { cancellationReasons, conditionFailureItem, isConditionalCheckFailed, isRetryableReason } from '../dynamodb-errors';
import { buyerTallyItemType, buyerTallyKey } from '../items/buyer-tally-item';
import { fromInventoryItem, inventoryKey } from '../items/inventory-item';
import { acquireLock, fromLockItem, heartbeatLock, type Lease, type LockState, lockKey, releaseLock } from '../items/lock-item';
import { fromReservationItem, putNewReservation, toReservationItem } from '../items/reservation-item';
import { consistentGet } from '../reads';
import { type RetryReason, retryReason } from '../retrier';
import { findReservation, type StrategyDeps } from './strategy-deps';
import { claimTickets, type TicketClaim } from './ticket-claims';

export interface PessimisticOptions {
  /** How long a holder may go without a heartbeat (StampedeConfig.lockLeaseMs). */
  readonly leaseMs: number;
  /** The process's sleep: waits for the lock and times the heartbeat (tests move a manual clock with it). */
  readonly sleep: Sleep;
}

/**
 * `pessimistic`: a lease lock per event, as `SELECT … FOR UPDATE` does it. Take the event's lock
 * (lock-item.ts), read the inventory and the buyer's tally, decide in code, then one
 * TransactWriteItems that writes the counts computed from the read, creates the reservation and
 * releases the lock on the condition that it is still ours (the fencing check). Modelled on the
 * Amazon DynamoDB Lock Client (https://github.com/awslabs/amazon-dynamodb-lock-client): a lease
 * and a heartbeat rather than a timeout, a recordVersion that waiters watch on their own clocks.
 * A crashed holder blocks its event for about a lease; a holder paused past its lease writes
 * nothing. It serializes every hold of an event, so it is the slowest of the safe strategies.
 */
export class PessimisticStrategy implements ReservationStrategy {
  readonly name = 'pessimistic' as const;
  /** This process as a lock holder; the fencing token tells its holds apart. */
  private readonly owner = randomUUID();
  /** Per event, the end of the last turn this process queued for its lock (see inTurn). */
  private readonly turns = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: StrategyDeps,
    private readonly options: PessimisticOptions,
  ) {}

  async hold(event: TicketEvent, request: HoldRequest): Promise<HoldOutcome> {
    const { deps } = this;
    // A sold-out event is answered by a read here, without taking the lock (see ticket-claims.ts).
    const claim = await claimTickets(deps, this.name, event, deps.views.of(event), request, 1);
    try {
      for (let attempt = 1; ; attempt++) {
        const verdict = await this.inTurn(event.eventId, async () => {
          const lease = await this.acquire(event.eventId, request.deadline);
          return this.holdUnderLock(lease, event, request, claim);
        });
        if (verdict.kind !== 'retry') return verdict.outcome;
        deps.telemetry.count('Conflict', this.name);
        if (attempt >= deps.retrier.policy.maxAttempts) throw deps.retrier.exhausted(verdict.reason, attempt);
        await deps.retrier.pauseWithin(request.deadline, attempt, verdict.reason, attempt);
        deps.telemetry.count('Retry', this.name);
      }
    } finally {
      claim.giveBack();
    }
  }

  /**
   * Holds of this process take an event's lock one after another, in the order they came, as
   * waiters queue for a row lock in a database: the next one starts the moment the one before it
   * is done, and only one of them at a time asks DynamoDB for the lock. (With every hold polling
   * the lock, they mostly waited out each other's backoffs: measured in 2026, a race of 1,000
   * buyers for 200 tickets in one process took 80 s that way, 14 s in turns.) Other processes
   * still race for the lock in DynamoDB, in no order, as with the Lock Client. Those ahead in the
   * queue came earlier and give up at their earlier deadlines, so a turn comes by about this
   * hold's own deadline; past it, `acquire` answers 503 at once.
   */
  private async inTurn<T>(eventId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(eventId) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.turns.set(eventId, mine);
    await previous;
    try {
      return await work();
    } finally {
      done();
      if (this.turns.get(eventId) === mine) this.turns.delete(eventId);
    }
  }

  /**
   * Take the event's lock. Free: ours at once. Held: watch its recordVersion on this process's
   * clock; once the same one has been seen for the lease its holder set, the holder stopped
   * heartbeating (crashed, or paused past its lease) and we take it over on that version. Between
   * looks, back off with jitter, never longer than a quarter lease (a stale lock is taken over
   * within 1.25 leases), and give up with 503 rather than wait past the hold's deadline.
   */
  private async acquire(eventId: string, deadline: number): Promise<Lease> {
    const { deps, options } = this;
    // Its turn came too late: the buyer has stopped waiting.
    if (deps.retrier.now() >= deadline) throw deps.retrier.exhausted('conflict', 1);
    let watched: { readonly recordVersion: string; readonly since: number; readonly leaseDurationMs: number } | undefined;
    for (let attempt = 1; ; attempt++) {
      const now = deps.retrier.now();
      const staleVersion = watched && now - watched.since >= watched.leaseDurationMs ? watched.recordVersion : undefined;
      const request = { owner: this.owner, recordVersion: randomUUID(), leaseDurationMs: options.leaseMs, staleVersion };
      let refusal: unknown;
      try {
        const { Attributes } = await deps.retrier.run(() => deps.db.send(new UpdateCommand(acquireLock(deps.tableName, eventId, request))));
        return { eventId, owner: this.owner, fencingToken: Number(Attributes?.fencingToken), leaseDurationMs: options.leaseMs };
      } catch (error) {
        if (!isConditionalCheckFailed(error)) {
          // No answer (e.g. timed out through the SDK's retries): the acquire may have happened.
          // If it did, the lock is ours; left alone it would block the event, us included, a lease long.
          const lease = await this.ownLeaseAfterUnclearAcquire(eventId, request.recordVersion);
          if (lease) return lease;
          throw error;
        }
        refusal = error;
      }
      // AWS returns the lock with the failed condition; DynamoDB Local does not, so read it.
      const item = conditionFailureItem(refusal) ?? (await consistentGet(deps.db, deps.tableName, lockKey(eventId), deps.retrier));
      const lock = item && fromLockItem(item);
      // Our own acquire whose answer was lost (the SDK retried it): the lock is ours.
      const own = lock && this.ownLease(eventId, lock, request.recordVersion);
      if (own) return own;
      deps.telemetry.count('Conflict', this.name);
      let delayMs = 0;
      if (!lock?.owner || !lock.recordVersion) {
        watched = undefined; // freed meanwhile: try again at once
      } else if (lock.recordVersion !== watched?.recordVersion) {
        watched = { recordVersion: lock.recordVersion, since: deps.retrier.now(), leaseDurationMs: lock.leaseDurationMs };
        delayMs = this.lockWait(attempt, lock.leaseDurationMs);
      } else if (deps.retrier.now() - watched.since < watched.leaseDurationMs) {
        delayMs = this.lockWait(attempt, lock.leaseDurationMs);
      } // else: stale by now, take it over at once
      if (deps.retrier.now() + delayMs >= deadline) throw deps.retrier.exhausted('conflict', attempt);
      if (delayMs > 0) await options.sleep(delayMs);
    }
  }

  /** The lease, if `lock` is the one this process's acquire with `recordVersion` took. */
  private ownLease(eventId: string, lock: LockState, recordVersion: string): Lease | undefined {
    if (lock.owner !== this.owner || lock.recordVersion !== recordVersion) return undefined;
    return { eventId, owner: this.owner, fencingToken: lock.fencingToken, leaseDurationMs: this.options.leaseMs };
  }

  /** After an acquire with no answer: the lease if it did take the lock; undefined if not, or if that cannot be read either. */
  private async ownLeaseAfterUnclearAcquire(eventId: string, recordVersion: string): Promise<Lease | undefined> {
    const { deps } = this;
    try {
      const item = await consistentGet(deps.db, deps.tableName, lockKey(eventId), deps.retrier);
      return item && this.ownLease(eventId, fromLockItem(item), recordVersion);
    } catch {
      return undefined; // the lease frees it
    }
  }

  /** Capped exponential backoff with full jitter, capped again at a quarter of the holder's lease. */
  private lockWait(attempt: number, leaseDurationMs: number): number {
    const { policy } = this.deps.retrier;
    return backoffDelay({ ...policy, maxDelayMs: Math.min(policy.maxDelayMs, leaseDurationMs / 4) }, attempt, this.deps.random);
  }

  /**
   * The critical section: read, decide, one transaction. Whatever happens, the lock is released
   * (a no-op if it is no longer ours), unless the transaction released it.
   */
  private async holdUnderLock(lease: Lease, event: TicketEvent, request: HoldRequest, claim: TicketClaim): Promise<Verdict> {
    const { deps } = this;
    const heartbeat = this.keepAlive(lease);
    let released = false;
    try {
      const [inventoryItem, tallyItem] = await Promise.all([
        consistentGet(deps.db, deps.tableName, inventoryKey(event.eventId, 0), deps.retrier),
        consistentGet(deps.db, deps.tableName, buyerTallyKey(event.eventId, request.buyerId), deps.retrier),
      ]);
      if (!inventoryItem) throw new Error(`Inventory of event ${event.eventId} is missing`);
      const inventory = fromInventoryItem(inventoryItem);
      const tickets = tallyItem?.tickets === undefined ? undefined : Number(tallyItem.tickets);
      const read: LockedRead = { available: inventory.available, version: inventory.version, tickets };
      if (read.available < request.quantity) {
        claim.short([{ take: claim.takes[0]!, available: read.available }]);
        throw new SoldOut(request.quantity, read.available);
      }
      const held = read.tickets ?? 0;
      if (held + request.quantity > event.maxPerBuyer) throw new BuyerLimitExceeded(event.maxPerBuyer, held);

      // No heartbeat may race the transaction on the lock item (it would cancel it as a conflict).
      await heartbeat.stop();
      const transaction = commitUnderLock(deps.tableName, lease, request, read);
      try {
        await deps.db.send(new TransactWriteCommand({ TransactItems: transaction.items, ClientRequestToken: randomUUID() }));
      } catch (error) {
        return await this.interpret(error, request);
      }
      released = true;
      claim.taken();
      return { kind: 'done', outcome: { kind: 'created', reservation: transaction.reservation } };
    } finally {
      await heartbeat.stop();
      if (!released) await this.release(lease);
    }
  }

  /** Why the transaction was cancelled, in the order of its items (see commitUnderLock). */
  private async interpret(error: unknown, request: HoldRequest): Promise<Verdict> {
    const { reservationId } = request;
    const reasons = cancellationReasons(error);
    if (!reasons) {
      // Not a cancellation: the SDK may have retried a transaction that had committed.
      request.attempts?.markUnclear();
      const reason = retryReason(error);
      if (reason) return { kind: 'retry', reason };
      throw error; // unknown outcome (e.g. a timeout): the service looks the reservation up (ReservationService.holdOrFindReplay)
    }
    const failed = (index: number) => reasons[index]?.code === 'ConditionalCheckFailed';
    // Fenced: our lease ran out and another holder took the lock. Nothing was written; start over.
    if (failed(lockIndex)) return { kind: 'retry', reason: 'conflict' };
    if (failed(reservationIndex)) {
      const item = reasons[reservationIndex]?.item;
      const existing = item ? fromReservationItem(item) : await findReservation(this.deps, reservationId);
      return existing ? { kind: 'done', outcome: { kind: 'existing', reservation: existing } } : { kind: 'retry', reason: 'conflict' };
    }
    // A release or an expiry (which return tickets without the lock) changed what we read: read again.
    if (failed(inventoryIndex) || failed(tallyIndex)) return { kind: 'retry', reason: 'conflict' };
    const retryable = reasons.find(isRetryableReason);
    if (retryable) return { kind: 'retry', reason: retryable.code === 'TransactionConflict' ? 'conflict' : 'throttle' };
    throw error;
  }

  /**
   * The Lock Client's heartbeat: while the critical section runs, renew the lease every third of
   * it, so a slow holder keeps its lock. `stop` waits for a heartbeat in flight.
   */
  private keepAlive(lease: Lease): { stop(): Promise<void> } {
    const { deps, options } = this;
    let stopped = false;
    let wake!: () => void;
    const stopping = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const beating = (async () => {
      for (;;) {
        await Promise.race([options.sleep(Math.floor(lease.leaseDurationMs / 3)), stopping]);
        if (stopped) return;
        try {
          await deps.db.send(new UpdateCommand(heartbeatLock(deps.tableName, lease, randomUUID())));
        } catch (error) {
          // Taken over: the transaction's fencing check will fail. Anything else: try next period.
          if (isConditionalCheckFailed(error)) return;
        }
      }
    })();
    return {
      stop() {
        stopped = true;
        wake();
        return beating;
      },
    };
  }

  /** Free the lock if it is still ours. If that fails too, the lease frees it: that is what it is for. */
  private async release(lease: Lease): Promise<void> {
    const { deps } = this;
    try {
      await deps.retrier.run(() => deps.db.send(new UpdateCommand(releaseLock(deps.tableName, lease))));
    } catch {
      // Not ours any more (taken over, or released by our own transaction), or unreachable.
    }
  }
}

type Verdict = { readonly kind: 'done'; readonly outcome: HoldOutcome } | { readonly kind: 'retry'; readonly reason: RetryReason };

/** What the critical section read: the inventory's count and version, the buyer's tally (undefined: none yet). */
export interface LockedRead {
  readonly available: number;
  readonly version: number;
  readonly tickets?: number;
}

/** The transaction's items, in this order: cancellation reasons come back in it. */
const [lockIndex, inventoryIndex, reservationIndex, tallyIndex] = [0, 1, 2, 3];

/**
 * The hold's one transaction: release the lock on owner and token (the fencing check, atomic with
 * the rest), write the counts computed from the read, create the reservation (`attribute_not_exists`:
 * a replayed Idempotency-Key never makes a second hold). The counts are also conditional on what
 * was read, because releases and expiries give tickets back without taking the lock.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
 */
export function commitUnderLock(tableName: string, lease: Lease, request: HoldRequest, read: LockedRead) {
  const { eventId } = lease;
  const reservationItem = toReservationItem(eventId, request, [{ shard: 0, quantity: request.quantity }]);
  const firstTally = read.tickets === undefined;
  const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
    { Update: releaseLock(tableName, lease) },
    {
      Update: {
        TableName: tableName,
        Key: inventoryKey(eventId, 0),
        UpdateExpression: 'SET #available = :available ADD #version :one',
        ConditionExpression: '#version = :seen',
        ExpressionAttributeNames: { '#available': 'available', '#version': 'version' },
        ExpressionAttributeValues: { ':available': read.available - request.quantity, ':one': 1, ':seen': read.version },
      },
    },
    { Put: { ...putNewReservation(tableName, reservationItem), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } },
    {
      Update: {
        TableName: tableName,
        Key: buyerTallyKey(eventId, request.buyerId),
        UpdateExpression: 'SET #tickets = :tickets, #type = :type, #eventId = :eventId, #buyerId = :buyerId',
        ConditionExpression: firstTally ? 'attribute_not_exists(#tickets)' : '#tickets = :seen',
        ExpressionAttributeNames: { '#tickets': 'tickets', '#type': 'type', '#eventId': 'eventId', '#buyerId': 'buyerId' },
        ExpressionAttributeValues: {
          ':tickets': (read.tickets ?? 0) + request.quantity,
          ':type': buyerTallyItemType,
          ':eventId': eventId,
          ':buyerId': request.buyerId,
          ...(!firstTally && { ':seen': read.tickets }),
        },
      },
    },
  ];
  return { items, reservation: fromReservationItem(reservationItem) };
}
