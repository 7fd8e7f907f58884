import { queueEntryFilter } from '../functions/data/items/queue-entry-item';
import type { TableAction } from './routes';

/**
 * The functions that no route calls: the scheduled sweeper (inventory that heals itself) and the
 * queued strategy's stream consumer.
 * Like the route table, each entry says which handler module runs and exactly which table
 * actions it may use; the CDK stack grants those and nothing more, and test/infra checks that
 * the code paths send exactly them. `npm start` runs the same handler modules locally.
 */
export interface JobDefinition {
  /** Stable id: the Lambda function's construct id. Renaming it replaces the function. */
  readonly id: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly tableActions: readonly TableAction[];
  /** Indexes of the table it queries (Query is granted on these only). */
  readonly indexes: readonly string[];
  readonly description: string;
}

export interface ScheduledJob extends JobDefinition {
  /** EventBridge schedule expression. */
  readonly schedule: string;
  /** The schedule's period, for the alarm on what it left overdue. */
  readonly everyMinutes: number;
  /** How often `npm start` and the rush run it on a timer instead (STAMPEDE_SWEEP_INTERVAL_MS overrides). */
  readonly locallyEveryMs: number;
}

export const sweeperJob: ScheduledJob = {
  id: 'SweepHolds',
  entry: 'functions/handlers/sweep-holds.ts',
  // Query the sweep index; read each due reservation (batched GetItem); expire a hold in one
  // transaction of Updates (reservation, shards, tally); undo an interrupted one (Delete, or a
  // transaction of Delete and Update).
  tableActions: ['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  indexes: ['sweep'],
  schedule: 'rate(1 minute)',
  everyMinutes: 1,
  // Locally a hold is back on sale ≤ 5 s after it expires: ≤ 3 s until a sweep starts, the sweep
  // itself (the index shards not known to be quiet, well under a second on an idle DynamoDB Local), then the event
  // page's 1 s staleness bound. Every 5 s left the slowest returns at 5.2-5.9 s (bench, 3 Dec).
  locallyEveryMs: 3_000,
  description: 'Return expired holds to sale and undo interrupted ones',
};

/** How often the sweeper runs: on AWS, its schedule; locally, its timer's default. */
export function sweepPeriodMs(where: 'aws' | 'local'): number {
  return where === 'aws' ? sweeperJob.everyMinutes * 60_000 : sweeperJob.locallyEveryMs;
}

export interface StreamJob extends JobDefinition {
  /** Which of the table's stream records it is invoked with (a Lambda event filter pattern). */
  readonly filter: typeof queueEntryFilter;
  /** Records per invocation. */
  readonly batchSize: number;
  /** A batch that keeps failing is retried this many times, then sent to the failure queue. */
  readonly maxRetries: number;
}

/**
 * The `queued` strategy's consumer: it reads the table's stream (only new log entries pass the
 * filter) and decides each event's requests in order (functions/handlers/decide-queued.ts).
 * `npm start` and the tests run the same handler from a poller of DynamoDB Local's stream
 * (local/stream-poller.ts) with the same filter, batch size and retries.
 */
export const queueDeciderJob: StreamJob = {
  id: 'DecideQueued',
  entry: 'functions/handlers/decide-queued.ts',
  // GetItem for the event and the stock; BatchGetItem to skip entries decided already and to read
  // the return bins; transactions of Updates (stock and winners; a fold of the bins into the
  // stock; a loser and its buyer's tally).
  tableActions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
  indexes: [],
  filter: queueEntryFilter,
  batchSize: 500,
  maxRetries: 10,
  description: "Decide queued events' requests in arrival order",
};
