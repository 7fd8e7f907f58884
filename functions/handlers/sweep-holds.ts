import type { Context, ScheduledEvent } from 'aws-lambda';
import { type App, defaultApp } from '../app';

/**
 * The sweeper, on an EventBridge schedule (every minute on AWS; `npm start` calls this same
 * handler on a timer): expired holds come back to sale, interrupted stepwise holds are undone.
 * Answers what it did; an error (DynamoDB unreachable) fails the invocation, which the
 * function's error alarm reports, and the next run picks up where this one stopped.
 */
export function createHandler(app: App) {
  return async (_event: ScheduledEvent, context?: Context) => {
    if (context) app.log.addContext?.(context);
    const report = await app.sweeper.sweep();
    app.sweepMetrics.record(report);
    const { lagsMs, ...summary } = report;
    const maxLagMs = lagsMs.length > 0 ? Math.max(...lagsMs) : 0;
    if (report.due > 0) app.log.info('Swept holds', { ...summary, maxLagMs });
    return { ...summary, maxLagMs };
  };
}

export const handler = createHandler(defaultApp());
