import type { Percentiles } from './artillery-report';
import type { ReadCeiling } from './derived';
import type { Fairness } from './fairness';
import type { RushResult } from './rush';

/** The text `npm run rush` prints at the end. Pure. */
export function formatSummary(result: RushResult): string {
  const { options, load, audit, derived, telemetry } = result;
  const lines: string[] = [];
  const where = options.target ? `against ${options.target}` : 'on the local stack';
  const shards = options.strategy === 'sharded' ? ` (${result.shards} shards)` : '';
  lines.push(
    `Rush: ${count(load.buyers)} buyers for ${count(options.tickets)} tickets, strategy ${options.strategy}${shards}, peak ${count(options.arrivalRate)} buyers/s, ${where}`,
  );
  if (audit) {
    const verdict = audit.violations.length === 0 ? 'audit OK' : `${audit.violations.length} audit violation(s)`;
    lines.push(
      `  Sold ${count(audit.sold)} of ${count(audit.capacity)} (held ${count(audit.held)}, confirmed ${count(audit.confirmed)}), oversold ${count(audit.oversold)}, lost ${count(audit.lost)}, ` +
        `double holds ${count(audit.doubleHolds)}, buyers over the limit ${count(audit.buyersOverLimit)}, pending ${count(audit.pending)}: ${verdict}`,
    );
    for (const violation of audit.violations.slice(0, 5)) lines.push(`    [${violation.kind}] ${violation.message}`);
    if (audit.violations.length > 5) lines.push(`    ... and ${audit.violations.length - 5} more (see result.json)`);
  } else {
    lines.push(`  Buyers won ${count(load.ticketsWon)} tickets; no audit: ${result.auditSkipped ?? 'skipped'}`);
  }
  const refused = Object.entries(load.refused)
    .map(([code, times]) => `, ${count(times)} ${code}`)
    .join('');
  lines.push(
    `  Refused: ${count(load.soldOut)} sold out${refused}; buyers' holds ${count(load.holds)} (then ${count(load.confirmed)} confirmed, ${count(load.released)} released, ${count(load.walkedAway)} walked away)`,
  );
  if (load.queued > 0 || options.strategy === 'queued') {
    lines.push(
      `  Queued: ${count(load.queued)} requests answered 202 and followed to their decision; ${count(load.undecided)} buyer(s) stopped waiting before it came`,
    );
  }
  if (result.decisionLatency) {
    const decided = result.decisionLatency;
    const rejected = Object.entries(decided.rejected)
      .map(([reason, times]) => `, rejected ${reason} ${count(times)}`)
      .join('');
    lines.push(
      `  Decision latency (arrival to decision, from the table): p50/p99/max ${tailSpread(decided)} ms over ${count(decided.count)} decided requests (held ${count(decided.held)}${rejected})`,
    );
  }
  if (result.fairness) {
    const { buyers, written } = result.fairness;
    lines.push(
      `  Fairness (share of those a strict first-come-first-served line would have served that got tickets): buyers' line by first attempt ${fairnessText(buyers)}; ` +
        `line of written requests by createdAt ${fairnessText(written)}`,
    );
  }
  lines.push(`  Answers by status: ${counts(load.statuses)}${Object.keys(load.errors).length > 0 ? `; no answer: ${counts(load.errors)}` : ''}`);
  const selling = derived.selling;
  lines.push(
    `  Throughput: ${decimal(derived.ticketsPerSecond)} tickets/s, ${decimal(derived.holdsPerSecond)} holds/s while selling` +
      `${selling ? ` (${selling.seconds} s)` : ''}; ${decimal(load.requestsPerSecond)} requests/s over ${decimal(load.durationSeconds)} s`,
  );
  lines.push(
    `  Latency ms p50/p95/p99: wins ${percentiles(load.winLatency)}; sold-out ${percentiles(load.soldOutLatency)}; all requests ${percentiles(load.latency)}`,
  );
  if (derived.soldOutPath) {
    const path = derived.soldOutPath;
    lines.push(
      `  Sold-out path after the sell-out: ${decimal(path.answersPerSecond)} answers/s (peak ${count(path.peakPerSecond)}/s, ${decimal(ratio(path.answersPerSecond, derived.holdsPerSecond), 1)}× the hold rate), ` +
        `${decimal(path.writesPerAnswer, 3)} DynamoDB writes per answer (whole run: ${decimal(derived.writesPerSoldOutAnswer, 3)} writes, ${decimal(derived.readsPerSoldOutAnswer, 3)} reads per sold-out answer)`,
    );
  }
  if (result.soldOutProbe) {
    const probe = result.soldOutProbe;
    const others = otherAnswers(probe);
    lines.push(
      `  Sold-out probe (closed loop, ${probe.concurrency} clients, ${decimal(probe.seconds, 1)} s): ${decimal(probe.perSecond)} sold-out answers/s, ` +
        `${decimal(derived.soldOutProbeTimesHoldRate, 1)}× the rush's hold rate, ${decimal(derived.soldOutProbeTimesApiHoldRate, 1)}× the API's closed-loop hold rate${others}; ` +
        `${probe.writes === undefined ? 'writes not metered' : `${count(probe.writes)} DynamoDB writes for them${probe.otherWrites ? `, ${count(probe.otherWrites)} for the other answers` : ''}`}`,
    );
  } else if (result.soldOutProbeSkipped) {
    lines.push(`  Sold-out probe skipped: ${result.soldOutProbeSkipped}`);
  }
  const { refusalCeiling, eventPageCeiling } = derived;
  if (refusalCeiling || eventPageCeiling) {
    const ceiling = (name: string, probe: ReadCeiling | undefined) =>
      probe ? `${name} ${decimal(probe.readUnitsPerAnswer, 4)} RCU each -> ${decimal(probe.answersPerSecond)}/s per event on AWS` : `${name} n/a`;
    lines.push(
      `  One environment (1 client, as one Lambda answers): ${ceiling('sold-out answers', refusalCeiling)}; ${ceiling('event page', eventPageCeiling)} ` +
        "(3,000 RCU/s per partition ÷ the busiest key's units per answer)",
    );
  }
  if (audit) {
    lines.push(
      `  Holds that ran out: ${count(result.sweeps?.expired ?? 0)} returned by the sweeper (${count(result.sweeps?.ticketsReturned ?? 0)} tickets), ` +
        `sweep lag ms p50/p99/max ${tailSpread(derived.sweepLag)}` +
        `${derived.sweepDuration ? ` (${count(result.sweeps?.sweeps ?? 0)} sweeps, each took ms p50/p99/max ${tailSpread(derived.sweepDuration)})` : ''}; ` +
        `tickets back by release ${count(audit.released)}, by expiry ${count(audit.expired)}, resold ${count(derived.resold ?? 0)}; ` +
        `at the end: ${count(audit.sold)} sold or live holds + ${count(audit.remaining)} on sale, ${count(audit.heldExpired)} held by an expired hold`,
    );
  }
  if (telemetry) {
    const strategy = options.strategy;
    const metric = (name: string) => telemetry[`${strategy}.${name}`] ?? 0;
    lines.push(
      `  Conflicts ${count(metric('Conflict'))}, retries ${count(metric('Retry'))}, shard misses ${count(metric('ShardMiss'))}, sold-out answers without a write ${count(metric('SoldOutWithoutWrite'))} (API telemetry); ` +
        `buyers retried ${count(load.retried)} time(s) after 429/503, ${count(load.gaveUp)} gave up`,
    );
  } else {
    lines.push(`  Buyers retried ${count(load.retried)} time(s) after 429/503, ${count(load.gaveUp)} gave up`);
  }
  if (result.raw) {
    const loop = result.apiClosedLoop;
    lines.push(
      `  Raw DynamoDB Local, same writes without HTTP or handlers: ${decimal(result.raw.holdsPerSecond)} holds/s; the API in a closed loop: ${decimal(loop?.perSecond)} holds/s; ` +
        `API/raw ${decimal(derived.apiToRaw, 2)}; DynamoDB calls per hold: raw ${decimal(derived.dynamoDbCallsPerHold?.raw, 2)}, API ${decimal(derived.dynamoDbCallsPerHold?.api, 2)}. Under the rush (busiest 5 s, Artillery on the same cores): ${decimal(derived.peakHoldsPerSecond)} holds/s, ${decimal(derived.rushPeakToRaw, 2)} of raw` +
        `${derived.arrivalLimited ? ' (arrival-limited: the API kept up with the buyers)' : ''}`,
    );
  }
  const cpu = derived.cpuSecondsPerRequest;
  if (Object.keys(cpu).length > 0) {
    lines.push(
      `  CPU ms per request: Artillery ${decimal(ms(cpu.artillery), 2)}, API ${decimal(ms(cpu.api), 2)}, DynamoDB Local ${decimal(ms(cpu.dynamodb), 2)} ` +
        `(CPU s: ${decimal(result.cpuSeconds.artillery, 1)} / ${decimal(result.cpuSeconds.api, 1)} / ${decimal(result.cpuSeconds.dynamodb, 1)})`,
    );
  }
  if (derived.writeUnitsPerTicket !== undefined) {
    lines.push(
      `  Capacity per sold ticket: ${decimal(derived.writeUnitsPerTicket, 2)} WCU (and ${decimal(derived.indexWriteUnitsPerTicket, 2)} in the sweep index), ${decimal(derived.readUnitsPerTicket, 2)} RCU counted with AWS's rules ` +
        `(DynamoDB Local's ConsumedCapacity, successful calls only: ${decimal(derived.measuredWriteUnitsPerTicket, 2)} WCU, ${decimal(derived.measuredReadUnitsPerTicket, 2)} RCU)`,
    );
  }
  if (derived.hottestKey && derived.ceiling) {
    lines.push(
      `  Hottest key ${derived.hottestKey.pk}: ${decimal(derived.hottestKey.shareOfWrites * 100, 1)}% of write units, ${decimal(derived.ceiling.hottestKeyWriteUnitsPerTicket, 3)} WCU per sold ticket ` +
        `-> projected AWS ceiling per event: ${decimal(derived.ceiling.ticketsPerSecond)} tickets/s (${decimal(derived.ceiling.holdsPerSecond)} holds/s); ` +
        `counting only writes that succeeded: ${decimal(derived.ceilingSucceededOnly?.ticketsPerSecond)} tickets/s (${decimal(derived.ceilingSucceededOnly?.holdsPerSecond)} holds/s)`,
    );
  }
  const index = derived.sweepIndexCeiling;
  if (index) {
    lines.push(
      `  Sweep index (a GSI; a throttled one throttles the table): busiest key ${index.pk.replace(/^GSI:[^:]+:/, '')}, ${decimal(index.writeUnitsPerHold, 3)} WCU per hold ` +
        `-> it reaches 1,000 WCU/s at ${decimal(index.holdsPerSecond)} holds/s for all events together (the table's busiest key, one event: ${decimal(derived.ceiling?.holdsPerSecond)})`,
    );
  }
  if (!result.quiet) lines.push('  WARNING: the API was still working on abandoned requests when the audit ran; pending holds may be in progress, not stuck.');
  const ensure = result.artilleryExitCode === 0 ? 'ensure checks passed' : `Artillery exited ${result.artilleryExitCode} (an ensure check failed)`;
  lines.push(`  Wall time ${duration(result.wallSeconds)} (buyers arriving and served: ${duration(load.durationSeconds)}); ${ensure}`);
  return lines.join('\n');
}

/** A fairness figure with what it counts: `0.981 (412 of 420)`, or why it says nothing. */
export function fairnessText(fairness: Fairness | undefined): string {
  if (!fairness) return 'n/a';
  if (fairness.onlyWinnersInLine) return `1 by construction (only holds are written: ${count(fairness.line)})`;
  if (fairness.share === undefined) return `n/a (${count(fairness.line)} in line)`;
  return `${decimal(fairness.share, 3)} (${count(fairness.idealWon)} of ${count(fairness.ideal)})`;
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

/** A whole number with thousands separators: `12,345`. */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A number with `digits` decimals and thousands separators, or `n/a` when there is none. */
export function decimal(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `p50/p95/p99` in whole milliseconds. */
/** p50/p99/max of a spread measured server-side (sweep lag, decision latency), or n/a. */
/** A closed loop's answers other than the ones it counted, as `, 1 × 201, 3 × 503` (empty when none). */
export function otherAnswers(loop: { readonly otherAnswers: Readonly<Record<string, number>> }): string {
  return Object.keys(loop.otherAnswers).length > 0 ? `, ${answerList(loop.otherAnswers)}` : '';
}

/** Answers by kind, e.g. `1 × 201, 3 × 503`. */
export function answerList(answers: Readonly<Record<string, number>>): string {
  return Object.entries(answers)
    .map(([answer, times]) => `${count(times)} × ${answer}`)
    .join(', ');
}

export function tailSpread(spread: { readonly p50: number; readonly p99: number; readonly max: number } | undefined): string {
  return spread ? `${count(spread.p50)}/${count(spread.p99)}/${count(spread.max)}` : 'n/a';
}

export function percentiles(latency: Percentiles): string {
  if (latency.count === 0) return 'n/a';
  return `${decimal(latency.p50)}/${decimal(latency.p95)}/${decimal(latency.p99)}`;
}

function counts(record: Record<string, number>): string {
  const entries = Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? 'none' : entries.map(([key, value]) => `${key} ×${count(value)}`).join(', ');
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
