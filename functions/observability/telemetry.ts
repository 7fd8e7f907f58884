import type { StrategyName } from '../domain/model';
import type { MetricName, Telemetry } from '../domain/ports';

/** Counters kept in process memory: the local server reports them to the rush benchmark. */
export class InMemoryTelemetry implements Telemetry {
  private readonly counters = new Map<string, number>();

  count(metric: MetricName, strategy: StrategyName, value = 1): void {
    const key = `${strategy}.${metric}`;
    this.counters.set(key, (this.counters.get(key) ?? 0) + value);
  }

  /** `{ "sharded.Conflict": 12, ... }` */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counters.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  reset(): void {
    this.counters.clear();
  }
}
