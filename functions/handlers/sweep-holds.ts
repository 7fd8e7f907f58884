import type { Context, ScheduledEvent } from 'aws-lambda';
import { type App, defaultApp } from '../app';

/**
 * The sweeper, on an EventBridge schedule (every minute on AWS; `npm start` calls this same
 * handler on a timer): expired holds come back to sale, interrupted stepwise holds are undone.
 * Answers what it did. What it could not do (DynamoDB throttled or unreachable) fails the
 * invocation once what it did is recorded in its metrics, so the function's error alarm reports
 * it; the next run tries those reservations again.
 */
export function createHandler(app: App) {
  return async (_event: ScheduledEvent, context?: Context) => {
    if (context) app.log.addContext?.(context);
    const report = await app.sweeper.sweep();
    app.sweepMetrics.record(report);
    const { lagsMs, firstFailure, ...summary } = report;
    const maxLagMs = lagsMs.length > 0 ? Math.max(...lagsMs) : 0;
    if (report.due > 0) app.log.info('Swept holds', { ...summary, maxLagMs });
    if (report.failed > 0) {
      const message = `The sweep could not settle ${report.failed} due reservation(s) or index shard(s); the next sweep tries them again.`;
      app.log.error(message, { ...summary, maxLagMs, error: firstFailure });
      throw new Error(message, { cause: firstFailure });
    }
    return { ...summary, maxLagMs };
  };
}

export const handler = createHandler(defaultApp());
