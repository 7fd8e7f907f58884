import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { StrategyName } from '../domain/model';
import type { MetricName, Telemetry } from '../domain/ports';

/**
 * Counters as CloudWatch metrics in Embedded Metric Format: Powertools writes one JSON line
 * to stdout and CloudWatch Logs turns it into metrics, no API call on the request path.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 *
 * Counts are kept per strategy and written by `flush()`, once per invocation: one EMF line
 * per strategy that counted something (dimensions `service` and `strategy`), none when
 * nothing was counted. The namespace comes from POWERTOOLS_METRICS_NAMESPACE (the stack sets it).
 */
export class PowertoolsTelemetry implements Telemetry {
  private readonly counts = new Map<StrategyName, Map<MetricName, number>>();

  constructor(private readonly metrics: Metrics = new Metrics({ serviceName: 'stampede' })) {}

  count(metric: MetricName, strategy: StrategyName, value = 1): void {
    const counters = this.counts.get(strategy) ?? new Map<MetricName, number>();
    this.counts.set(strategy, counters);
    counters.set(metric, (counters.get(metric) ?? 0) + value);
  }

  flush(): void {
    const pending = [...this.counts];
    this.counts.clear();
    for (const [strategy, counters] of pending) {
      // Dimensions added here apply to this publish only; publishing clears them.
      this.metrics.addDimension('strategy', strategy);
      for (const [metric, value] of counters) this.metrics.addMetric(metric, MetricUnit.Count, value);
      this.metrics.publishStoredMetrics();
    }
  }
}
