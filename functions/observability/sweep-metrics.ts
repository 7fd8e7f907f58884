import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SweepReport } from '../domain/hold-sweeper';

/** What a sweep did, for the dashboard and its alarm (CloudWatch) or the load test (in memory). */
export interface SweepMetrics {
  record(report: SweepReport): void;
}

/**
 * One EMF line per sweep: counts, every hold's sweep lag (CloudWatch computes p50/p99 from the
 * values), and how overdue the oldest due reservation was: the alarm's metric, published even
 * when 0, so a sweeper that stops running shows as missing data. Not published by a sweep that
 * could not read all of the index (it cannot know the oldest): that is missing data too, and the
 * alarm treats it as overdue.
 */
export class PowertoolsSweepMetrics implements SweepMetrics {
  constructor(private readonly metrics: Metrics = new Metrics({ serviceName: 'stampede' })) {}

  record(report: SweepReport): void {
    this.metrics.addMetric('HoldsExpired', MetricUnit.Count, report.expired);
    this.metrics.addMetric('TicketsReturnedByExpiry', MetricUnit.Count, report.ticketsReturned);
    this.metrics.addMetric('HoldsRepaired', MetricUnit.Count, report.repaired);
    this.metrics.addMetric('QueuedRequestsTimedOut', MetricUnit.Count, report.rejected);
    if (report.failed === 0) this.metrics.addMetric('OldestDueAge', MetricUnit.Milliseconds, report.oldestDueMs);
    for (const lag of report.lagsMs) this.metrics.addMetric('SweepLag', MetricUnit.Milliseconds, lag);
    this.metrics.publishStoredMetrics();
  }
}

/** Sweeps of a long-lived process (the local server), summed: served at `GET /_local/sweeper`. */
export class InMemorySweepStats implements SweepMetrics {
  private totals = { sweeps: 0, expired: 0, ticketsReturned: 0, repaired: 0, rejected: 0 };
  private lagsMs: number[] = [];
  /** How long each sweep took: with the interval, what bounds the lag (a tick that comes during a sweep waits for it). */
  private tookMs: number[] = [];

  record(report: SweepReport): void {
    this.totals.sweeps++;
    this.totals.expired += report.expired;
    this.totals.ticketsReturned += report.ticketsReturned;
    this.totals.repaired += report.repaired;
    this.totals.rejected += report.rejected;
    this.lagsMs.push(...report.lagsMs);
    this.tookMs.push(report.tookMs);
  }

  snapshot() {
    return { ...this.totals, lagsMs: [...this.lagsMs], tookMs: [...this.tookMs] };
  }

  reset(): void {
    this.totals = { sweeps: 0, expired: 0, ticketsReturned: 0, repaired: 0, rejected: 0 };
    this.lagsMs = [];
    this.tookMs = [];
  }
}
