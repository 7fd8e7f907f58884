import { randomUUID } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../functions/config';
import { createDocumentClient } from '../functions/data/dynamodb-client';
import { cancellationReasons, isConditionalCheckFailed } from '../functions/data/dynamodb-errors';
import { addToBuyerTally, buyerTallyKey, overwriteBuyerTally, subtractFromBuyerTally } from '../functions/data/items/buyer-tally-item';
import { fromInventoryItem, inventoryKey, overwriteAvailable, takeFromShard } from '../functions/data/items/inventory-item';
import { acquireLock, lockKey, releaseLock } from '../functions/data/items/lock-item';
import { toQueueEntryItem } from '../functions/data/items/queue-entry-item';
import {
  decideHeld,
  deletePendingHold,
  markHeld,
  markTallied,
  putNewReservation,
  reservationKey,
  toPendingReservationItem,
  toReservationItem,
} from '../functions/data/items/reservation-item';
import { retryReason } from '../functions/data/retrier';
import { commitUnderLock } from '../functions/data/strategies/pessimistic';
import type { HoldRequest, StrategyName } from '../functions/domain/model';
import { backoffDelay, defaultRetryPolicy } from '../functions/domain/retry';

/**
 * The raw DynamoDB Local throughput of a strategy's hold: the same DynamoDB requests the
 * strategy sends for one hold (built by the same item modules), 64 in flight like the API's
 * client, but no HTTP, no handler, no domain code. The rush divides the API's holds/s by this.
 */
export interface RawEvent {
  readonly eventId: string;
  readonly strategy: StrategyName;
  readonly shards: number;
}

export interface RawOptions {
  readonly endpoint: string;
  readonly tableName: string;
  /** Requests in flight, like STAMPEDE_MAX_SOCKETS. */
  readonly concurrency?: number;
  /** Stop after this long even if tickets remain. */
  readonly seconds: number;
}

export interface RawResult {
  readonly strategy: StrategyName;
  readonly holds: number;
  readonly seconds: number;
  readonly holdsPerSecond: number;
  /** DynamoDB calls sent, failed conditions included. */
  readonly calls: number;
  /** The event ran out of tickets before the time was up: the rate covers less than `seconds` of work. */
  readonly soldOut: boolean;
}

type Attempt = 'held' | 'soldOut' | 'again';
/** A stepwise request and the claim its later steps are conditional on. */
type Claim = HoldRequest & { readonly claimId: string };

interface Pattern {
  hold(request: HoldRequest): Promise<Attempt>;
}

/**
 * Retry what the API's retrier retries (a transaction conflict, a throttle), and DynamoDB
 * Local's "timed out ... waiting for a lock" (an InternalServerError it says AWS would not
 * give), with the API's backoff, a bounded number of times.
 */
async function retryingTransient<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const lockTimeout = (error as Error).name === 'InternalServerError' && /lock/i.test((error as Error).message);
      if ((!lockTimeout && !retryReason(error)) || attempt >= defaultRetryPolicy.maxAttempts * 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(defaultRetryPolicy, Math.min(attempt, defaultRetryPolicy.maxAttempts))));
    }
  }
}

/** A day: longer than any baseline runs. */
const rawRepairAfterMs = 24 * 3_600_000;

/** Sell one ticket per hold until the event is sold out or the time is up. */
export async function measureRaw(event: RawEvent, options: RawOptions): Promise<RawResult> {
  const concurrency = options.concurrency ?? 64;
  const config = loadConfig({
    TABLE_NAME: options.tableName,
    DYNAMODB_ENDPOINT: options.endpoint,
    STAMPEDE_MAX_SOCKETS: String(concurrency),
  });
  const db = createDocumentClient(config);
  let calls = 0;
  db.middlewareStack.add(
    (next) => (args) => {
      calls++;
      return next(args);
    },
    { step: 'initialize', name: 'rawCallCounter' },
  );
  const pattern = patternFor(event, db, options.tableName, config.lockLeaseMs);
  const started = Date.now();
  const deadline = started + options.seconds * 1000;
  let holds = 0;
  let soldOut = false;
  const worker = async () => {
    while (!soldOut && Date.now() < deadline) {
      const now = Date.now();
      const id = randomUUID();
      const outcome = await pattern.hold({
        reservationId: `raw_${id}`,
        buyerId: `raw-${id}`,
        quantity: 1,
        requestFingerprint: 'raw',
        idempotencyKey: id,
        createdAt: now,
        // Never expires during a run: the sweeper's figures must be the rush's alone (as for the side events' holds).
        expiresAt: now + rawRepairAfterMs,
        // The raw patterns retry on their own terms (no time budget): they measure DynamoDB Local.
        deadline: Number.POSITIVE_INFINITY,
        // Stored as the sweep index's `sweepAt` of PENDING and QUEUED items, so finite (DynamoDB has no
        // Infinity), and far enough that the running sweeper never repairs or rejects a raw request.
        repairAt: now + rawRepairAfterMs,
      });
      if (outcome === 'held') holds++;
      else if (outcome === 'soldOut') soldOut = true;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    db.destroy();
  }
  const seconds = (Date.now() - started) / 1000;
  return { strategy: event.strategy, holds, seconds, holdsPerSecond: holds / seconds, calls, soldOut };
}

function patternFor(event: RawEvent, db: DynamoDBDocumentClient, tableName: string, lockLeaseMs: number): Pattern {
  const { eventId } = event;
  /** One transaction, retried on the same token: one that went through before its answer was lost is not applied twice. */
  const transact = (items: NonNullable<TransactWriteCommandInput['TransactItems']>) => {
    const token = randomUUID();
    return retryingTransient(() => db.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: token })));
  };
  const holdTransaction = async (request: HoldRequest, shard: number): Promise<'held' | 'short'> => {
    const take = { shard, quantity: request.quantity };
    try {
      await transact([
        { Update: takeFromShard(tableName, eventId, take) },
        { Put: putNewReservation(tableName, toReservationItem(eventId, request, [take])) },
        { Update: addToBuyerTally(tableName, eventId, request.buyerId, request.quantity, 10) },
      ]);
      return 'held';
    } catch (error) {
      if (cancellationReasons(error)?.[0]?.code === 'ConditionalCheckFailed') return 'short';
      throw error;
    }
  };
  // The stepwise strategies' first two steps (returning the claim the third step is conditional on),
  // and the third's transaction around a take (stepwise-hold.ts).
  const claimAndCount = async (request: HoldRequest): Promise<Claim> => {
    const item = toPendingReservationItem(eventId, request, [{ shard: 0, quantity: 1 }]);
    await db.send(new PutCommand(putNewReservation(tableName, item)));
    await transact([{ Update: addToBuyerTally(tableName, eventId, request.buyerId, request.quantity, 10) }, { Update: markTallied(tableName, item) }]);
    return { ...request, claimId: item.claimId };
  };
  const takeAndHold = (
    claim: Claim,
    take: Omit<ReturnType<typeof takeFromShard>, 'ExpressionAttributeValues'> & { ExpressionAttributeValues: Record<string, number> },
  ) => transact([{ Update: take }, { Update: markHeld(tableName, claim, claim.expiresAt) }]);
  const forget = (claim: Claim) =>
    transact([
      { Delete: deletePendingHold(tableName, claim, 'tallied') },
      { Update: subtractFromBuyerTally(tableName, eventId, claim.buyerId, claim.quantity) },
    ]);
  const readInventory = async () =>
    fromInventoryItem((await db.send(new GetCommand({ TableName: tableName, Key: inventoryKey(eventId, 0), ConsistentRead: true }))).Item!);

  switch (event.strategy) {
    case 'sharded': {
      // Like the strategy: a random shard among those not known to be empty.
      const open = new Set(Array.from({ length: event.shards }, (_, shard) => shard));
      return {
        async hold(request) {
          const shards = [...open];
          if (shards.length === 0) return 'soldOut';
          const shard = shards[Math.floor(Math.random() * shards.length)]!;
          if ((await holdTransaction(request, shard)) === 'held') return 'held';
          open.delete(shard);
          return 'again';
        },
      };
    }
    case 'transactional':
      return { hold: async (request) => ((await holdTransaction(request, 0)) === 'held' ? 'held' : 'soldOut') };
    case 'conditional':
      return {
        async hold(request) {
          const claim = await claimAndCount(request);
          try {
            await takeAndHold(claim, takeFromShard(tableName, eventId, { shard: 0, quantity: 1 }));
          } catch (error) {
            if (cancellationReasons(error)?.[0]?.code !== 'ConditionalCheckFailed') throw error;
            await forget(claim);
            return 'soldOut';
          }
          return 'held';
        },
      };
    case 'optimistic':
      return {
        async hold(request) {
          const claim = await claimAndCount(request);
          for (let attempt = 1; attempt <= defaultRetryPolicy.maxAttempts; attempt++) {
            const seen = await readInventory();
            if (seen.available < request.quantity) {
              await forget(claim);
              return 'soldOut';
            }
            try {
              await takeAndHold(claim, {
                TableName: tableName,
                Key: inventoryKey(eventId, 0),
                UpdateExpression: 'SET #available = :available, #version = :next',
                ConditionExpression: '#version = :seen',
                ExpressionAttributeNames: { '#available': 'available', '#version': 'version' },
                ExpressionAttributeValues: { ':available': seen.available - request.quantity, ':next': seen.version + 1, ':seen': seen.version },
              });
              return 'held';
            } catch (error) {
              if (cancellationReasons(error)?.[0]?.code !== 'ConditionalCheckFailed') throw error;
            }
            // The same backoff as the strategy: it is part of its write pattern.
            await new Promise((resolve) => setTimeout(resolve, backoffDelay(defaultRetryPolicy, attempt)));
          }
          await forget(claim);
          return 'again';
        },
      };
    case 'pessimistic': {
      // The strategy's requests (pessimistic.ts): take the event's lock (a busy lock: look at it, back
      // off, try again), read the count and the tally, one transaction that writes both and releases it.
      // Holds take the lock in turns, as the API's holds of one process do (PessimisticStrategy.inTurn):
      // with all 64 polling the lock, raw sent 21 calls per hold against the API's 4 (3 December).
      const owner = randomUUID();
      let lastTurn: Promise<unknown> = Promise.resolve();
      const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
        const mine = lastTurn.then(work);
        lastTurn = mine.catch(() => undefined);
        return mine;
      };
      const lockWait = { ...defaultRetryPolicy, maxDelayMs: Math.min(defaultRetryPolicy.maxDelayMs, lockLeaseMs / 4) };
      const acquire = async () => {
        try {
          const request = { owner, recordVersion: randomUUID(), leaseDurationMs: lockLeaseMs };
          const { Attributes } = await db.send(new UpdateCommand(acquireLock(tableName, eventId, request)));
          return { eventId, owner, fencingToken: Number(Attributes?.fencingToken), leaseDurationMs: lockLeaseMs };
        } catch (error) {
          if (!isConditionalCheckFailed(error)) throw error;
          await db.send(new GetCommand({ TableName: tableName, Key: lockKey(eventId), ConsistentRead: true }));
          return undefined;
        }
      };
      return {
        hold: (request) =>
          inTurn(async (): Promise<Attempt> => {
            let lease = await acquire();
            for (let attempt = 1; !lease; attempt++) {
              await new Promise((resolve) => setTimeout(resolve, backoffDelay(lockWait, attempt)));
              lease = await acquire();
            }
            const [seen, tally] = await Promise.all([
              readInventory(),
              db.send(new GetCommand({ TableName: tableName, Key: buyerTallyKey(eventId, request.buyerId), ConsistentRead: true })),
            ]);
            if (seen.available < request.quantity) {
              await db.send(new UpdateCommand(releaseLock(tableName, lease)));
              return 'soldOut';
            }
            const read = { available: seen.available, version: seen.version, tickets: tally.Item?.tickets as number | undefined };
            await transact(commitUnderLock(tableName, lease, request, read).items);
            return 'held';
          }),
      };
    }
    case 'queued': {
      // Each request is queued (reservation, tally and log entry in one transaction), then waits
      // for its decision. One decider, as the consumer of the stream's one shard decides in order:
      // it takes up to nine waiting requests at a time (DynamoDB Local's 10 items per
      // transaction, less the inventory), reads the inventory, then one transaction takes the
      // chunk's tickets and holds its reservations. Concurrent deciders would only make the
      // inventory item a hot lock (DynamoDB Local then fails transactions waiting for it).
      interface Waiting {
        readonly request: HoldRequest;
        readonly decided: (outcome: Attempt) => void;
        readonly failed: (error: unknown) => void;
      }
      // The same log entry, under a key the API's consumer does not read (its stream filter takes
      // `QUEUE#` keys only): this loop decides its own requests, and the API's must not race it.
      const rawQueueEntry = (request: HoldRequest) => {
        const entry = toQueueEntryItem(eventId, event.shards, request);
        return { ...entry, pk: `RAW${entry.pk}` };
      };
      let waiting: Waiting[] = [];
      let deciding = false;
      const decideChunk = async (chunk: readonly Waiting[], token: string): Promise<Attempt> => {
        const inventory = fromInventoryItem(
          (await db.send(new GetCommand({ TableName: tableName, Key: inventoryKey(eventId, 0), ConsistentRead: true }))).Item!,
        );
        const total = chunk.reduce((sum, { request }) => sum + request.quantity, 0);
        if (inventory.available < total) return 'soldOut';
        const now = Date.now();
        await db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: tableName,
                  Key: inventoryKey(eventId, 0),
                  UpdateExpression: 'SET #available = #available - :total ADD #version :one',
                  ConditionExpression: '#available >= :total',
                  ExpressionAttributeNames: { '#available': 'available', '#version': 'version' },
                  ExpressionAttributeValues: { ':total': total, ':one': 1 },
                },
              },
              ...chunk.map(({ request }) => ({ Update: decideHeld(tableName, request.reservationId, request.quantity, now, now + 600_000) })),
            ],
            // The same token on a retry: a transaction that went through before its answer was lost is not applied twice.
            ClientRequestToken: token,
          }),
        );
        return 'held';
      };
      const decideWaiting = async () => {
        if (deciding) return;
        deciding = true;
        while (waiting.length > 0) {
          const chunk = waiting.slice(0, 9);
          waiting = waiting.slice(9);
          const token = randomUUID();
          try {
            const outcome = await retryingTransient(() => decideChunk(chunk, token));
            for (const { decided } of chunk) decided(outcome);
          } catch (error) {
            for (const { failed } of chunk) failed(error);
          }
        }
        deciding = false;
      };
      return {
        async hold(request) {
          await transact([
            { Put: putNewReservation(tableName, toReservationItem(eventId, request, [], 'QUEUED')) },
            { Update: addToBuyerTally(tableName, eventId, request.buyerId, request.quantity, 10) },
            { Put: { TableName: tableName, Item: rawQueueEntry(request) } },
          ]);
          return new Promise<Attempt>((decided, failed) => {
            waiting.push({ request, decided, failed });
            void decideWaiting();
          });
        },
      };
    }
    case 'unsafe':
      return {
        async hold(request) {
          await db.send(new GetCommand({ TableName: tableName, Key: reservationKey(request.reservationId) }));
          const inventory = fromInventoryItem((await db.send(new GetCommand({ TableName: tableName, Key: inventoryKey(eventId, 0) }))).Item!);
          if (inventory.available < request.quantity) return 'soldOut';
          await db.send(new GetCommand({ TableName: tableName, Key: buyerTallyKey(eventId, request.buyerId) }));
          await db.send(new UpdateCommand(overwriteAvailable(tableName, eventId, inventory.available - request.quantity)));
          await db.send(new PutCommand(overwriteBuyerTally(tableName, eventId, request.buyerId, request.quantity)));
          await db.send(new PutCommand({ TableName: tableName, Item: toReservationItem(eventId, request, [{ shard: 0, quantity: request.quantity }]) }));
          return 'held';
        },
      };
  }
}
