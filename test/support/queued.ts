import { randomUUID } from 'node:crypto';
import { inject, onTestFinished } from 'vitest';
import type { StrategyName } from '../../functions/domain/model';
import { createHandler } from '../../functions/handlers/decide-queued';
import { queueDeciderJob } from '../../lib/jobs';
import { ensureLocalTable } from '../../local/local-table';
import { type StreamPoller, startStreamPoller } from '../../local/stream-poller';
import { type TestApp, type TestAppOptions, testApp } from './test-app';

export interface QueuedTestApp {
  readonly app: TestApp;
  /** The stream consumer, as `npm start` runs it (unless `decide: false`). */
  readonly decider?: StreamPoller;
}

/**
 * An app on a table of its own, with the `queued` strategy's consumer reading that table's
 * stream (the consumer decides every queued request in its table, so tests do not share one).
 */
export async function queuedTestApp(tableName: string, { decide = true, ...options }: TestAppOptions & { decide?: boolean } = {}): Promise<QueuedTestApp> {
  const app = testApp({ ...options, config: { ...options.config, tableName } });
  await ensureLocalTable(app.config.endpoint ?? inject('dynamoDbEndpoint'), tableName);
  return { app, ...(decide && { decider: await startDecider(app) }) };
}

/** A consumer for this app's table: a new one reads the stream from its oldest record, as after a restart. */
export async function startDecider(app: TestApp, handlerApp: TestApp = app): Promise<StreamPoller> {
  const endpoint = app.config.endpoint ?? inject('dynamoDbEndpoint');
  const { filter, batchSize, maxRetries } = queueDeciderJob;
  return startStreamPoller({ endpoint, tableName: app.config.tableName, filter, batchSize, maxRetries, handler: createHandler(handlerApp), log: app.log });
}

/**
 * The app a strategy's tests run on. `queued` gets a table of its own with its consumer running,
 * and waits for its decisions at the door, so it answers as every strategy does (201, 409) and the
 * same test steps apply; the consumer stops when the test ends. A waiting request keeps its place
 * among the process's in-flight requests, so the races' thousands of buyers get more places than
 * the 64 a server has by default (measured: 1,200 buyers took 85 s with 64, 26 s with 512).
 */
export async function appFor(strategy: StrategyName, options: TestAppOptions = {}): Promise<TestApp> {
  if (strategy !== 'queued') return testApp(options);
  const { app, decider } = await queuedTestApp(`stampede-queued-${randomUUID().slice(0, 8)}`, {
    ...options,
    config: { queueWaitMs: 60_000, maxConcurrentRequests: 512, ...options.config },
  });
  onTestFinished(() => decider?.stop());
  return app;
}
