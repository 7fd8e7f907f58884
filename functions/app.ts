import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfig, type StampedeConfig } from './config';
import { createDocumentClient } from './data/dynamodb-client';
import { DynamoEventRepository } from './data/event-repository';
import { readInventory } from './data/inventory/inventory-reads';
import { InventorySnapshots } from './data/inventory/inventory-snapshots';
import { InventoryViews } from './data/inventory/inventory-view';
import { DynamoQueueDecisions } from './data/queue-decisions';
import { DynamoReservationRepository } from './data/reservation-repository';
import { Retrier } from './data/retrier';
import { ConditionalStrategy } from './data/strategies/conditional';
import { OptimisticStrategy } from './data/strategies/optimistic';
import { PessimisticStrategy } from './data/strategies/pessimistic';
import { QueuedStrategy } from './data/strategies/queued';
import { ShardedStrategy } from './data/strategies/sharded';
import type { StrategyDeps } from './data/strategies/strategy-deps';
import { TransactionalStrategy } from './data/strategies/transactional';
import { UnsafeStrategy } from './data/strategies/unsafe';
import { DynamoSweepRepository, sweepQuietMs } from './data/sweep-repository';
import { type Clock, systemClock } from './domain/clock';
import { ConcurrencyLimiter } from './domain/concurrency-limiter';
import { EventService } from './domain/event-service';
import { HoldSweeper } from './domain/hold-sweeper';
import { minHoldSeconds, type StrategyName } from './domain/model';
import type { Telemetry } from './domain/ports';
import { QueueConsumer } from './domain/queue-consumer';
import { ReservationService, type StrategyRegistry } from './domain/reservation-service';
import { defaultRetryPolicy, type RetryPolicy, realSleep, type Sleep } from './domain/retry';
import { createLogger, type Log } from './observability/log';
import { PowertoolsTelemetry } from './observability/powertools-telemetry';
import { InMemorySweepStats, PowertoolsSweepMetrics, type SweepMetrics } from './observability/sweep-metrics';
import { InMemoryTelemetry } from './observability/telemetry';

/** Everything a handler needs, built once per process. */
export interface App {
  readonly config: StampedeConfig;
  /** The process's one DynamoDB client (the local server meters its calls). */
  readonly db: DynamoDBDocumentClient;
  readonly events: EventService;
  readonly reservations: ReservationService;
  readonly clock: Clock;
  readonly log: Log;
  readonly telemetry: Telemetry;
  /** Bounds the API requests this process works on at once (see ConcurrencyLimiter). */
  readonly admission: ConcurrencyLimiter;
  /** Returns expired holds and repairs interrupted ones (the scheduled function; a timer locally). */
  readonly sweeper: HoldSweeper;
  /** Decides `queued` events' logs (the stream's consumer; a stream poller locally). */
  readonly queueConsumer: QueueConsumer;
  readonly sweepMetrics: SweepMetrics;
}

/** Seams for tests: a clock that does not move, a client with injected faults, no sleeping. */
export interface AppOptions {
  readonly config: StampedeConfig;
  readonly db?: DynamoDBDocumentClient;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  readonly retryPolicy?: RetryPolicy;
  readonly telemetry?: Telemetry;
  readonly sweepMetrics?: SweepMetrics;
  readonly log?: Log;
}

export function createApp(options: AppOptions): App {
  const { config } = options;
  const db = options.db ?? createDocumentClient(config);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const telemetry = options.telemetry ?? (config.emitMetrics ? new PowertoolsTelemetry() : new InMemoryTelemetry());
  const sleep = options.sleep ?? realSleep;
  const retrier = new Retrier(options.retryPolicy ?? defaultRetryPolicy, sleep, random, () => clock.now());

  // One snapshot cache for sold-out answers and the event page: one bounded-staleness read per event.
  const snapshots = new InventorySnapshots(
    async (event) =>
      (await readInventory(db, config.tableName, event, { retrier, maxTransactionItems: config.maxTransactionItems })).map((shard) => shard.available),
    () => clock.now(),
  );
  const strategyDeps: StrategyDeps = {
    db,
    tableName: config.tableName,
    maxTransactionItems: config.maxTransactionItems,
    retrier,
    random,
    telemetry,
    views: new InventoryViews(),
    snapshots,
    soldOutStalenessMs: config.soldOutStalenessMs,
  };
  const strategies: StrategyRegistry = {
    sharded: new ShardedStrategy(strategyDeps),
    transactional: new TransactionalStrategy(strategyDeps),
    conditional: new ConditionalStrategy(strategyDeps),
    optimistic: new OptimisticStrategy(strategyDeps),
    pessimistic: new PessimisticStrategy(strategyDeps, { leaseMs: config.lockLeaseMs, sleep }),
    queued: new QueuedStrategy(strategyDeps),
    unsafe: new UnsafeStrategy(strategyDeps),
  } satisfies Record<StrategyName, unknown>;

  const events = new DynamoEventRepository(db, config.tableName, retrier, snapshots, config.soldOutStalenessMs);
  const reservations = new DynamoReservationRepository(db, config.tableName, retrier);
  const queueDecisions = new DynamoQueueDecisions(db, config.tableName, retrier, config.maxTransactionItems);
  const log = options.log ?? createLogger();
  return {
    sweeper: new HoldSweeper(
      new DynamoSweepRepository(db, config.tableName, retrier, sweepQuietMs({ ...config, minHoldMs: minHoldSeconds * 1000 })),
      reservations,
      queueDecisions,
      clock,
    ),
    queueConsumer: new QueueConsumer(events, queueDecisions, clock, telemetry, (message, detail) => log.error(message, detail)),
    sweepMetrics: options.sweepMetrics ?? (config.emitMetrics ? new PowertoolsSweepMetrics() : new InMemorySweepStats()),
    config,
    db,
    clock,
    telemetry,
    log,
    admission: new ConcurrencyLimiter(config.maxConcurrentRequests, config.maxQueuedRequests, config.maxQueueWaitMs),
    events: new EventService(events, clock, config.allowUnsafe),
    reservations: new ReservationService(events, reservations, strategies, clock, telemetry, {
      allowUnsafe: config.allowUnsafe,
      holdBudgetMs: config.holdBudgetMs,
      repairMarginMs: config.repairMarginMs,
      queueWaitMs: config.queueWaitMs,
      queueDecisionTimeoutMs: config.queueDecisionTimeoutMs,
      sleep,
    }),
  };
}

let processApp: App | undefined;

/** The app every handler module builds at cold start, configured from the environment. */
export function defaultApp(): App {
  processApp ??= createApp({ config: loadConfig() });
  return processApp;
}
