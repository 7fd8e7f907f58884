/**
 * Reads what `artillery run --output <file>` wrote: `aggregate` (the whole run) and
 * `intermediate` (one entry per 10 s period). Counter and summary names are Artillery's
 * (`http.codes.201`, `http.response_time`, `vusers.created`, `errors.ETIMEDOUT`) and the
 * buyer processor's (`stampede.*`, see buyer.ts). Pure: no I/O.
 * https://www.artillery.io/docs/reference/cli/run#output---output
 */
interface ArtillerySummary {
  readonly min?: number;
  readonly max?: number;
  readonly count?: number;
  readonly p50?: number;
  readonly median?: number;
  readonly p95?: number;
  readonly p99?: number;
}

export interface ArtilleryPeriod {
  readonly counters?: Record<string, number>;
  readonly summaries?: Record<string, ArtillerySummary>;
  readonly firstMetricAt?: number;
  readonly lastMetricAt?: number;
  /** Start of the 10 s period (ms since the epoch; a string in `intermediate`). */
  readonly period?: number | string;
}

export interface ArtilleryOutput {
  readonly aggregate: ArtilleryPeriod;
  readonly intermediate?: readonly ArtilleryPeriod[];
}

export interface Percentiles {
  readonly count: number;
  readonly p50?: number;
  readonly p95?: number;
  readonly p99?: number;
  readonly max?: number;
}

export interface TimelinePoint {
  /** Seconds from the first metric to the start of this period. */
  readonly at: number;
  /** Seconds this period covers (10, less at the edges). */
  readonly width: number;
  readonly requestsPerSecond: number;
  readonly winsPerSecond: number;
  readonly soldOutPerSecond: number;
  readonly latency: Percentiles;
  readonly winLatency: Percentiles;
  readonly soldOutLatency: Percentiles;
}

export interface LoadReport {
  /** Virtual users = buyers. */
  readonly buyers: number;
  readonly buyersCompleted: number;
  readonly buyersFailed: number;
  readonly requests: number;
  readonly responses: number;
  /** Seconds from the first to the last metric. */
  readonly durationSeconds: number;
  readonly requestsPerSecond: number;
  /** `{"201": 8000, "409": 92000, ...}` */
  readonly statuses: Record<string, number>;
  /** Requests that got no answer: `{"ETIMEDOUT": 3}`. */
  readonly errors: Record<string, number>;
  /** Wins: holds answered 201, or queued requests (202) the buyer later found HELD. */
  readonly holds: number;
  readonly replays: number;
  /** `queued` events: requests answered 202 (in line, decided later), and buyers who stopped waiting for the decision. */
  readonly queued: number;
  readonly undecided: number;
  readonly ticketsWon: number;
  readonly soldOut: number;
  /** Other 409s by error code, e.g. `buyer_limit_exceeded`, and queued requests rejected for another reason than sold out (`not_decided`). */
  readonly refused: Record<string, number>;
  readonly retried: number;
  readonly gaveUp: number;
  readonly final5xx: number;
  readonly unexpected: number;
  readonly confirmed: number;
  readonly released: number;
  readonly walkedAway: number;
  readonly latency: Percentiles;
  readonly winLatency: Percentiles;
  readonly soldOutLatency: Percentiles;
  readonly timeline: readonly TimelinePoint[];
}

const periodSeconds = 10;

export function parseArtilleryOutput(output: ArtilleryOutput): LoadReport {
  const { aggregate } = output;
  const counters = aggregate.counters ?? {};
  const count = (name: string) => counters[name] ?? 0;
  const durationSeconds = Math.max(0, ((aggregate.lastMetricAt ?? 0) - (aggregate.firstMetricAt ?? 0)) / 1000);
  const requests = count('http.requests');
  return {
    buyers: count('vusers.created'),
    buyersCompleted: count('vusers.completed'),
    buyersFailed: count('vusers.failed'),
    requests,
    responses: count('http.responses'),
    durationSeconds,
    requestsPerSecond: durationSeconds > 0 ? count('http.responses') / durationSeconds : 0,
    statuses: withPrefix(counters, 'http.codes.'),
    errors: withPrefix(counters, 'errors.'),
    holds: count('stampede.won'),
    replays: count('stampede.replayed'),
    queued: count('stampede.queued'),
    undecided: count('stampede.undecided'),
    ticketsWon: count('stampede.tickets_won'),
    soldOut: count('stampede.sold_out'),
    refused: withPrefix(counters, 'stampede.refused.'),
    retried: count('stampede.retried'),
    gaveUp: count('stampede.gave_up'),
    final5xx: count('stampede.final_5xx'),
    unexpected: count('stampede.unexpected'),
    confirmed: count('stampede.confirmed'),
    released: count('stampede.released'),
    walkedAway: count('stampede.walked_away'),
    latency: percentiles(aggregate.summaries?.['http.response_time']),
    winLatency: percentiles(aggregate.summaries?.['stampede.win_ms']),
    soldOutLatency: percentiles(aggregate.summaries?.['stampede.sold_out_ms']),
    timeline: timeline(output.intermediate ?? [], aggregate.firstMetricAt),
  };
}

/** One point per 10 s period, as rates per second of that period. */
export function timeline(periods: readonly ArtilleryPeriod[], firstMetricAt?: number): TimelinePoint[] {
  const sorted = [...periods].sort((a, b) => Number(a.period ?? 0) - Number(b.period ?? 0));
  const origin = firstMetricAt ?? Number(sorted[0]?.period ?? 0);
  return sorted.map((period, index) => {
    const start = Math.max(Number(period.period ?? origin), index === 0 ? origin : 0);
    const next = sorted[index + 1];
    const end = next ? Number(next.period) : Math.max(period.lastMetricAt ?? start, start + 1000);
    const width = Math.min(periodSeconds, Math.max(1, (end - start) / 1000));
    const counters = period.counters ?? {};
    const rate = (name: string) => (counters[name] ?? 0) / width;
    return {
      at: Math.max(0, (start - origin) / 1000),
      width,
      requestsPerSecond: rate('http.responses'),
      winsPerSecond: rate('stampede.won'),
      soldOutPerSecond: rate('stampede.sold_out'),
      latency: percentiles(period.summaries?.['http.response_time']),
      winLatency: percentiles(period.summaries?.['stampede.win_ms']),
      soldOutLatency: percentiles(period.summaries?.['stampede.sold_out_ms']),
    };
  });
}

function percentiles(summary: ArtillerySummary | undefined): Percentiles {
  if (!summary) return { count: 0 };
  return { count: summary.count ?? 0, p50: summary.p50 ?? summary.median, p95: summary.p95, p99: summary.p99, max: summary.max };
}

function withPrefix(counters: Record<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counters)
      .filter(([name]) => name.startsWith(prefix))
      .map(([name, value]) => [name.slice(prefix.length), value]),
  );
}
