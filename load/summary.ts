import type { Percentiles } from './artillery-report';
import type { RushResult } from './rush';

/** The text `npm run rush` prints at the end. Pure. */
export function formatSummary(result: RushResult): string {
  const { options, load, audit, derived, telemetry } = result;
  const lines: string[] = [];
  const where = options.target ? `against ${options.target}` : 'on the local stack';
  const shards = options.strategy === 'sharded' ? ` (${result.shards} shards)` : '';
  lines.push(
    `Rush: ${n(load.buyers)} buyers for ${n(options.tickets)} tickets, strategy ${options.strategy}${shards}, peak ${n(options.arrivalRate)} buyers/s, ${where}`,
  );
  if (audit) {
    const verdict = audit.violations.length === 0 ? 'audit OK' : `${audit.violations.length} audit violation(s)`;
    lines.push(
      `  Sold ${n(audit.sold)} of ${n(audit.capacity)} (held ${n(audit.held)}, confirmed ${n(audit.confirmed)}), oversold ${n(audit.oversold)}, lost ${n(audit.lost)}, ` +
        `double holds ${n(audit.doubleHolds)}, buyers over the limit ${n(audit.buyersOverLimit)}, pending ${n(audit.pending)}: ${verdict}`,
    );
    for (const violation of audit.violations.slice(0, 5)) lines.push(`    [${violation.kind}] ${violation.message}`);
    if (audit.violations.length > 5) lines.push(`    ... and ${audit.violations.length - 5} more (see result.json)`);
  } else {
    lines.push(`  Buyers won ${n(load.ticketsWon)} tickets; no audit: ${result.auditSkipped ?? 'skipped'}`);
  }
  const refused = Object.entries(load.refused).map(([code, count]) => `, ${n(count)} ${code}`).join('');
  lines.push(`  Refused: ${n(load.soldOut)} sold out${refused}; buyers' holds ${n(load.holds)} (then ${n(load.confirmed)} confirmed, ${n(load.released)} released, ${n(load.walkedAway)} walked away)`);
  lines.push(`  Answers by status: ${counts(load.statuses)}${Object.keys(load.errors).length > 0 ? `; no answer: ${counts(load.errors)}` : ''}`);
  const selling = derived.selling;
  lines.push(
    `  Throughput: ${f(derived.ticketsPerSecond)} tickets/s, ${f(derived.holdsPerSecond)} holds/s while selling` +
      `${selling ? ` (${selling.seconds} s)` : ''}; ${f(load.requestsPerSecond)} requests/s over ${f(load.durationSeconds)} s`,
  );
  lines.push(`  Latency ms p50/p95/p99: wins ${p(load.winLatency)}; sold-out ${p(load.soldOutLatency)}; all requests ${p(load.latency)}`);
  if (derived.soldOutPath) {
    const path = derived.soldOutPath;
    lines.push(
      `  Sold-out path after the sell-out: ${f(path.answersPerSecond)} answers/s (peak ${n(path.peakPerSecond)}/s, ${f(ratio(path.answersPerSecond, derived.holdsPerSecond), 1)}× the hold rate), ` +
        `${f(path.writesPerAnswer, 3)} DynamoDB writes per answer (whole run: ${f(derived.writesPerSoldOutAnswer, 3)} writes, ${f(derived.readsPerSoldOutAnswer, 3)} reads per sold-out answer)`,
    );
  }
  if (result.soldOutProbe) {
    const probe = result.soldOutProbe;
    const others = Object.entries(probe.otherAnswers).map(([answer, count]) => `, ${n(count)} × ${answer}`).join('');
    lines.push(
      `  Sold-out probe (closed loop, ${probe.concurrency} clients, ${f(probe.seconds, 1)} s): ${f(probe.perSecond)} sold-out answers/s, ` +
        `${f(derived.soldOutProbeTimesHoldRate, 1)}× the rush's hold rate, ${f(derived.soldOutProbeTimesApiHoldRate, 1)}× the API's closed-loop hold rate${others}; ` +
        `${probe.writes === undefined ? 'writes not metered' : `${n(probe.writes)} DynamoDB writes`}`,
    );
  } else if (result.soldOutProbeSkipped) {
    lines.push(`  Sold-out probe skipped: ${result.soldOutProbeSkipped}`);
  }
  if (telemetry) {
    const strategy = options.strategy;
    const metric = (name: string) => telemetry[`${strategy}.${name}`] ?? 0;
    lines.push(
      `  Conflicts ${n(metric('Conflict'))}, retries ${n(metric('Retry'))}, shard misses ${n(metric('ShardMiss'))}, sold-out answers without a write ${n(metric('SoldOutWithoutWrite'))} (API telemetry); ` +
        `buyers retried ${n(load.retried)} time(s) after 429/503, ${n(load.gaveUp)} gave up`,
    );
  } else {
    lines.push(`  Buyers retried ${n(load.retried)} time(s) after 429/503, ${n(load.gaveUp)} gave up`);
  }
  if (result.raw) {
    const loop = result.apiClosedLoop;
    lines.push(
      `  Raw DynamoDB Local, same writes without HTTP or handlers: ${f(result.raw.holdsPerSecond)} holds/s; the API in a closed loop: ${f(loop?.perSecond)} holds/s; ` +
        `API/raw ${f(derived.apiToRaw, 2)}. Under the rush (busiest 5 s, Artillery on the same cores): ${f(derived.peakHoldsPerSecond)} holds/s, ${f(derived.rushPeakToRaw, 2)} of raw` +
        `${derived.arrivalLimited ? ' (arrival-limited: the API kept up with the buyers)' : ''}`,
    );
  }
  const cpu = derived.cpuSecondsPerRequest;
  if (Object.keys(cpu).length > 0) {
    lines.push(
      `  CPU ms per request: Artillery ${f(ms(cpu.artillery), 2)}, API ${f(ms(cpu.api), 2)}, DynamoDB Local ${f(ms(cpu.dynamodb), 2)} ` +
        `(CPU s: ${f(result.cpuSeconds.artillery, 1)} / ${f(result.cpuSeconds.api, 1)} / ${f(result.cpuSeconds.dynamodb, 1)})`,
    );
  }
  if (derived.writeUnitsPerTicket !== undefined) {
    lines.push(
      `  Capacity per sold ticket: ${f(derived.writeUnitsPerTicket, 2)} WCU, ${f(derived.readUnitsPerTicket, 2)} RCU counted with AWS's rules ` +
        `(DynamoDB Local's ConsumedCapacity, successful calls only: ${f(derived.measuredWriteUnitsPerTicket, 2)} WCU, ${f(derived.measuredReadUnitsPerTicket, 2)} RCU)`,
    );
  }
  if (derived.hottestKey && derived.ceiling) {
    lines.push(
      `  Hottest key ${derived.hottestKey.pk}: ${f(derived.hottestKey.shareOfWrites * 100, 1)}% of write units, ${f(derived.ceiling.hottestKeyWriteUnitsPerTicket, 3)} WCU per sold ticket ` +
        `-> projected AWS ceiling per event: ${f(derived.ceiling.ticketsPerSecond)} tickets/s (${f(derived.ceiling.holdsPerSecond)} holds/s); ` +
        `counting only writes that succeeded: ${f(derived.ceilingSucceededOnly?.ticketsPerSecond)} tickets/s (${f(derived.ceilingSucceededOnly?.holdsPerSecond)} holds/s)`,
    );
  }
  if (!result.quiet) lines.push('  WARNING: the API was still working on abandoned requests when the audit ran; pending holds may be in progress, not stuck.');
  const ensure = result.artilleryExitCode === 0 ? 'ensure checks passed' : `Artillery exited ${result.artilleryExitCode} (an ensure check failed)`;
  lines.push(`  Wall time ${duration(result.wallSeconds)} (buyers arriving and served: ${duration(load.durationSeconds)}); ${ensure}`);
  return lines.join('\n');
}

/** Exit code of `npm run rush`: correctness first, then the run's own checks. */
export function rushExitCode(result: RushResult): number {
  const violations = result.audit?.violations.length ?? 0;
  if (violations > 0 && result.options.strategy !== 'unsafe') return 1;
  if (result.artilleryExitCode !== 0) return 1;
  return 0;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

function ms(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000;
}

export function n(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function f(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function p(latency: Percentiles): string {
  if (latency.count === 0) return 'n/a';
  return `${f(latency.p50)}/${f(latency.p95)}/${f(latency.p99)}`;
}

function counts(record: Record<string, number>): string {
  const entries = Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? 'none' : entries.map(([key, value]) => `${key} ×${n(value)}`).join(', ');
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
