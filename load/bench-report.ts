import type { RushResult } from './rush';
import { answerList, count, decimal, fairnessText, percentiles, tailSpread } from './summary';

/**
 * The performance × correctness matrix `npm run bench` writes into BENCHMARKS.md, between
 * `<!-- bench:start -->` and `<!-- bench:end -->` (text outside the markers is kept). Pure.
 */
export interface BenchMeta {
  readonly command: string;
  readonly date: string;
  readonly machine: string;
  readonly chartPath: string;
  readonly wallSeconds: number;
}

export const benchMarkers = { start: '<!-- bench:start -->', end: '<!-- bench:end -->' } as const;

/** The project's targets: API/raw, the sold-out path, and the sharded event's AWS ceiling. */
const targets = {
  apiToRaw: 0.8,
  soldOutWritesPerAnswer: 0,
  soldOutTimesHoldRate: 3,
  shardedHoldsPerSecond: 8_000,
  shardedOverTransactional: 16,
  shardedOverConditional: 8,
} as const;

/** Artillery's niceness is relative to the stack's priority (load/artillery-runner.ts), so say so. */
function artilleryPriority(nice: number | undefined): string {
  if (nice === undefined) return '';
  return nice === 0 ? ", at the stack's CPU priority" : `, ${nice} nice steps below the stack's CPU priority`;
}

export function benchMarkdown(results: readonly RushResult[], meta: BenchMeta): string {
  const first = results[0];
  const lines: string[] = [benchMarkers.start, '## Performance × correctness matrix', ''];
  lines.push(`- Command: \`${meta.command}\``);
  lines.push(`- Date: ${meta.date}; the whole bench took ${Math.round(meta.wallSeconds / 60)} min`);
  lines.push(`- Machine: ${meta.machine}`);
  if (first) {
    const nice = artilleryPriority(first.options.artilleryNice);
    lines.push(
      `- Load per strategy: ${count(first.load.buyers)} buyers (Artillery, one buyer per virtual user${nice}) for ${count(first.options.tickets)} tickets, ` +
        `peak ${count(first.options.arrivalRate)} buyers/s (${first.phases.map((phase) => `${phase.name} ${count(phase.arrivalCount)} in ${phase.duration} s`).join(', ')})`,
    );
  }
  lines.push('', '### Correctness (the audit)', '');
  lines.push(
    table(
      ['strategy', 'sold', 'oversold', 'lost', 'double holds', 'buyers over limit', 'pending', 'audit', "fairness: buyers' line", 'fairness: written requests'],
      results.map((r) => {
        const a = r.audit;
        const fairness = [fairnessText(r.fairness?.buyers), fairnessText(r.fairness?.written)];
        if (!a) return [r.options.strategy, count(r.load.ticketsWon), '?', '?', '?', '?', '?', r.auditSkipped ?? 'skipped', ...fairness];
        const verdict =
          a.violations.length === 0 ? 'OK' : `${a.violations.length} violation(s)${r.options.strategy === 'unsafe' ? ' (expected: the control)' : ''}`;
        return [
          r.options.strategy,
          count(a.sold),
          count(a.oversold),
          count(a.lost),
          count(a.doubleHolds),
          count(a.buyersOverLimit),
          count(a.pending),
          verdict,
          ...fairness,
        ];
      }),
    ),
  );
  lines.push('', '### Speed', '');
  lines.push(
    table(
      [
        'strategy',
        'tickets/s',
        'holds/s',
        'selling s',
        'requests/s',
        'wins p50/p95/p99 ms',
        'sold-out p50/p95/p99 ms',
        'decision p50/p99/max ms (queued)',
        'answers',
        'no answer',
        'buyer retries',
      ],
      results.map((r) => [
        r.options.strategy,
        decimal(r.derived.ticketsPerSecond),
        decimal(r.derived.holdsPerSecond),
        r.derived.selling ? String(r.derived.selling.seconds) : 'n/a',
        decimal(r.load.requestsPerSecond),
        percentiles(r.load.winLatency),
        percentiles(r.load.soldOutLatency),
        tailSpread(r.decisionLatency),
        record(r.load.statuses),
        record(r.load.errors),
        `${count(r.load.retried)} (${count(r.load.gaveUp)} gave up)`,
      ]),
    ),
  );
  lines.push('', '### Overhead: API against raw DynamoDB Local, and where the CPU goes', '');
  lines.push(
    table(
      [
        'strategy',
        'raw holds/s',
        'API holds/s, closed loop',
        'API/raw',
        'DynamoDB calls per hold: raw / API',
        'API holds/s under the rush (busiest 5 s)',
        'of raw',
        'CPU ms/request: Artillery',
        'API',
        'DynamoDB Local',
        'conflicts',
        'retries',
        'shard misses',
      ],
      results.map((r) => {
        const cpu = r.derived.cpuSecondsPerRequest;
        const metric = (name: string) => count(r.telemetry?.[`${r.options.strategy}.${name}`] ?? 0);
        return [
          r.options.strategy,
          decimal(r.raw?.holdsPerSecond),
          decimal(r.apiClosedLoop?.perSecond),
          decimal(r.derived.apiToRaw, 2),
          `${decimal(r.derived.dynamoDbCallsPerHold?.raw, 2)} / ${decimal(r.derived.dynamoDbCallsPerHold?.api, 2)}`,
          `${decimal(r.derived.peakHoldsPerSecond)}${r.derived.arrivalLimited ? ' (arrival-limited)' : ''}`,
          decimal(r.derived.rushPeakToRaw, 2),
          decimal(msOf(cpu.artillery), 2),
          decimal(msOf(cpu.api), 2),
          decimal(msOf(cpu.dynamodb), 2),
          metric('Conflict'),
          metric('Retry'),
          metric('ShardMiss'),
        ];
      }),
    ),
  );
  lines.push('', '### The sold-out path (after the sell-out)', '');
  lines.push(
    table(
      [
        'strategy',
        'probe: sold-out answers/s (closed loop)',
        "× the rush's hold rate",
        "× the API's closed-loop hold rate",
        'probe: DynamoDB writes for its sold-out answers (for other answers)',
        'rush, after the sell-out: answers/s (peak /s)',
        'writes per answer',
        'whole run: writes / reads per sold-out answer',
        'AWS, one event: sold-out answers/s (RCU each)',
        'event page reads/s (RCU each)',
      ],
      results.map((r) => {
        const path = r.derived.soldOutPath;
        const probe = r.soldOutProbe;
        return [
          r.options.strategy,
          probe ? `${decimal(probe.perSecond)} (${count(probe.count)} in ${decimal(probe.seconds, 1)} s)` : (r.soldOutProbeSkipped ?? 'n/a'),
          decimal(r.derived.soldOutProbeTimesHoldRate, 1),
          decimal(r.derived.soldOutProbeTimesApiHoldRate, 1),
          probeWrites(probe),
          path ? `${decimal(path.answersPerSecond)} (${count(path.peakPerSecond)})` : 'n/a',
          path ? `${decimal(path.writesPerAnswer, 3)} (${count(path.writes)} in all)` : 'n/a',
          `${decimal(r.derived.writesPerSoldOutAnswer, 3)} / ${decimal(r.derived.readsPerSoldOutAnswer, 3)}`,
          readCeiling(r.derived.refusalCeiling),
          readCeiling(r.derived.eventPageCeiling),
        ];
      }),
    ),
  );
  lines.push('', '### Holds that ran out (walkaways) and the sweeper', '');
  lines.push(
    table(
      [
        'strategy',
        'returned by the sweeper: holds (tickets)',
        'sweep lag p50/p99/max ms',
        'one sweep took p50/p99/max ms',
        'tickets back: by release, by expiry',
        'resold',
        'at the end: sold or held, on sale',
        'held by an expired hold',
      ],
      results.map((r) => {
        const a = r.audit;
        return [
          r.options.strategy,
          r.sweeps ? `${count(r.sweeps.expired)} (${count(r.sweeps.ticketsReturned)})` : 'n/a',
          tailSpread(r.derived.sweepLag),
          tailSpread(r.derived.sweepDuration),
          a ? `${count(a.released)}, ${count(a.expired)}` : 'n/a',
          count(r.derived.resold ?? 0),
          a ? `${count(a.sold)}, ${count(a.remaining)}` : 'n/a',
          a ? count(a.heldExpired) : 'n/a',
        ];
      }),
    ),
  );
  lines.push('', '### Cost and the projected AWS ceiling of one event', '');
  lines.push(
    table(
      [
        'strategy',
        'WCU/ticket: table + sweep index',
        'RCU/ticket',
        'measured WCU/RCU per ticket',
        'hottest key',
        'its share of WCU',
        'its WCU/ticket',
        'ceiling tickets/s',
        'ceiling holds/s',
        'succeeded writes only: tickets/s, holds/s',
        'sweep index: busiest key WCU/hold → holds/s',
      ],
      results.map((r) => {
        const d = r.derived;
        return [
          r.options.strategy,
          `${decimal(d.writeUnitsPerTicket, 2)} + ${decimal(d.indexWriteUnitsPerTicket, 2)}`,
          decimal(d.readUnitsPerTicket, 2),
          `${decimal(d.measuredWriteUnitsPerTicket, 2)} / ${decimal(d.measuredReadUnitsPerTicket, 2)}`,
          d.hottestKey ? `\`${keyLabel(d.hottestKey.pk)}\`` : 'n/a',
          d.hottestKey ? `${decimal(d.hottestKey.shareOfWrites * 100, 1)}%` : 'n/a',
          decimal(d.ceiling?.hottestKeyWriteUnitsPerTicket, 3),
          decimal(d.ceiling?.ticketsPerSecond),
          decimal(d.ceiling?.holdsPerSecond),
          `${decimal(d.ceilingSucceededOnly?.ticketsPerSecond)}, ${decimal(d.ceilingSucceededOnly?.holdsPerSecond)}`,
          d.sweepIndexCeiling ? `${decimal(d.sweepIndexCeiling.writeUnitsPerHold, 3)} → ${decimal(d.sweepIndexCeiling.holdsPerSecond)}` : 'n/a',
        ];
      }),
    ),
  );
  lines.push('', '### Targets', '', ...targetLines(results), '');
  lines.push(`![Throughput and latency over time per strategy](${meta.chartPath})`, '');
  lines.push(
    '**How to read it.** Sold/oversold/lost/double holds/buyers over limit come from the audit (`npm run audit`) of the event after the rush. ' +
      'Fairness: of the buyers (or written requests) a strict first-come-first-served line would have served with the capacity, the share that got tickets; ' +
      "the buyers' line orders every buyer by their first attempt, the written line orders the reservations the table recorded by createdAt (a strategy that writes only holds makes it 1 by construction); see docs/load-testing.md. " +
      'tickets/s and holds/s: tickets sold (audit) and holds made (`201`; for `queued`, holds by the second they were decided) per second of the selling window: the first sale, from the first hold to the sell-out (the first second with a sold-out answer; for a rush that never sells out, the second by which 99% of holds were made), server-side, per second. ' +
      "requests/s: all answers over the whole Artillery run. Latencies are what the buyer waited, from its first attempt (503s and their Retry-After waits included) to the answer, for wins (`201`/`200`; a queued request's win to the HELD answer) and sold-out answers (`409 sold_out`) separately; " +
      "decision (queued): from a request's arrival to its decision, from the table. " +
      'Raw: the same DynamoDB requests per hold, sent directly with the SDK (64 in flight) to the same DynamoDB Local, in the same run, before the rush; ' +
      'then the API in a closed loop: 64 clients asking for one ticket each through HTTP and the handlers, on an event of its own, for as long. API/raw divides the two: what HTTP and the handlers cost, with nothing else running. ' +
      "DynamoDB calls per hold: every call each side sent during its loop (failed ones and retries included; the API's include its queued consumer, not its stream reads nor the sweeper's index queries, which come every few seconds whatever the load), per hold: DynamoDB Local's CPU bounds both sides here, so an API that sends more calls per hold than raw shows it in API/raw. " +
      'Under the rush, Artillery takes about a core of the two: the API\'s busiest 5 seconds of holds are also given against raw ("arrival-limited" when within 10% of the arrival rate: the API was not saturated). ' +
      "Sold-out probe: after the rush (and before the audit), 32 clients in a closed loop ask the sold-out event (or, if tickets are on sale again, a sold-out event of the same shape) for one ticket for 5 s; its rate is held against the rush's holds/s while selling (the target's \"reserve rate\") and, stricter, against the API's closed-loop holds/s, both paths at full speed. Its writes are those made for its sold-out answers (the target: 0); in brackets, writes made meanwhile for its other answers, such as a hold on a ticket that a walkaway's expiry put back on sale during the probe. " +
      'CPU: utime+stime from /proc/<pid>/stat over the window from the first phase to the last buyer, divided by the answers. ' +
      "WCU/RCU are **counted** per request and per partition key with AWS's rules (a failed conditional write or cancelled transaction counted as if it ran; items ≤ 1 KB except Puts, which are sized); " +
      '"measured" is DynamoDB Local\'s ConsumedCapacity, which covers successful calls only and reports every TransactWriteItems as 4 WCU whatever its size (AWS: 2 per item, 6 for a hold). ' +
      "Ceiling = 1,000 WCU/s ÷ the hottest partition key's WCU per sold ticket (or per hold): one partition key never takes more than 1,000 WCU/s on AWS. " +
      'It counts every write to that key over the whole rush, failed ones included (the last shards with tickets draw many failed attempts at the end); ' +
      '"succeeded writes only" is the bound without them. The targets use the first (the conservative one). ' +
      "Sweep index: the GSI's writes (1 per entry added or removed, 2 per sort-key change, successful writes only) on its busiest partition key, per hold made; a GSI partition takes 1,000 WCU/s too, and the index's keys serve every event of the table, so its ceiling is for all events on sale together. WCU/ticket shows the table's keys and the index's writes apart (AWS bills both). " +
      "AWS, one event: what one Lambda environment's sold-out answer and event-page read cost the busiest key in read units (the bounded-staleness view shared by its requests), against 3,000 RCU/s per partition. " +
      'Walkaways: 10% of the buyers who win a hold neither confirm nor release it; the sweeper returns their tickets once the hold runs out (`--hold-seconds`), and later buyers buy them; sweep lag is from `expiresAt` to the return; one sweep took: how long each local sweep took (a tick that comes while one runs starts the next when it ends, so the lag is bounded by the longer of the interval and a sweep, plus a sweep).',
    '',
    benchMarkers.end,
  );
  return lines.join('\n');
}

/** Replace the bench section of an existing BENCHMARKS.md, or start one. */
export function spliceBenchSection(existing: string | undefined, section: string): string {
  const header = '# Benchmarks\n\nGenerated by `npm run bench` (see README, "Load test"); text outside the bench markers is kept.\n\n';
  if (!existing) return `${header}${section}\n`;
  const start = existing.indexOf(benchMarkers.start);
  const end = existing.indexOf(benchMarkers.end);
  if (start === -1 || end === -1 || end < start) return `${existing.trimEnd()}\n\n${section}\n`;
  return `${existing.slice(0, start)}${section}${existing.slice(end + benchMarkers.end.length)}`;
}

/** The probe's writes for its sold-out answers, and in brackets those for its other answers, if any. */
function probeWrites(probe: RushResult['soldOutProbe']): string {
  if (probe?.writes === undefined) return 'n/a';
  return probe.otherWrites ? `${count(probe.writes)} (${count(probe.otherWrites)} for ${answerList(probe.otherAnswers)})` : count(probe.writes);
}

function readCeiling(ceiling: { readonly readUnitsPerAnswer: number; readonly answersPerSecond: number } | undefined): string {
  return ceiling ? `${decimal(ceiling.answersPerSecond)} (${decimal(ceiling.readUnitsPerAnswer, 4)})` : 'n/a';
}

function targetLines(results: readonly RushResult[]): string[] {
  const by = (strategy: string) => results.find((r) => r.options.strategy === strategy);
  const mark = (ok: boolean | undefined) => (ok === undefined ? '?' : ok ? '✅' : '❌');
  const lines: string[] = [];
  for (const r of results) {
    if (r.options.strategy === 'unsafe') continue;
    const path = r.derived.soldOutPath;
    const probe = r.soldOutProbe;
    const times = r.derived.soldOutProbeTimesHoldRate;
    const writesOk = path || probe?.writes !== undefined ? (path?.writes ?? 0) + (probe?.writes ?? 0) <= targets.soldOutWritesPerAnswer : undefined;
    lines.push(
      `- ${r.options.strategy}: API/raw ${decimal(r.derived.apiToRaw, 2)} ${mark(r.derived.apiToRaw === undefined ? undefined : r.derived.apiToRaw >= targets.apiToRaw)} (≥ ${targets.apiToRaw}); ` +
        `sold-out path ${path ? `${count(path.writes)} writes for ${count(path.answers)} answers after the sell-out` : 'n/a'}` +
        `${probe?.writes !== undefined ? `, ${count(probe.writes)} for the probe's ${count(probe.count)}` : ''} ${mark(writesOk)} (0 writes); ` +
        `sold-out rate ${decimal(times, 1)}× the rush's hold rate ${mark(times === undefined ? undefined : times >= targets.soldOutTimesHoldRate)} (≥ ${targets.soldOutTimesHoldRate}×; ` +
        `${decimal(r.derived.soldOutProbeTimesApiHoldRate, 1)}× the API's closed-loop hold rate)`,
    );
  }
  const sharded = by('sharded')?.derived.ceiling?.holdsPerSecond;
  const transactional = by('transactional')?.derived.ceiling?.holdsPerSecond;
  const conditional = by('conditional')?.derived.ceiling?.holdsPerSecond;
  if (sharded !== undefined) {
    lines.push(
      `- sharded ceiling ${decimal(sharded)} holds/s per event ${mark(sharded >= targets.shardedHoldsPerSecond)} (≥ ${count(targets.shardedHoldsPerSecond)}); ` +
        `× transactional ${decimal(transactional ? sharded / transactional : undefined, 1)} ${mark(transactional ? sharded / transactional >= targets.shardedOverTransactional : undefined)} (≥ ${targets.shardedOverTransactional}); ` +
        `× conditional ${decimal(conditional ? sharded / conditional : undefined, 1)} ${mark(conditional ? sharded / conditional >= targets.shardedOverConditional : undefined)} (≥ ${targets.shardedOverConditional})`,
    );
  }
  const unsafe = by('unsafe');
  if (unsafe?.audit) {
    lines.push(
      `- unsafe (the control) oversold ${count(unsafe.audit.oversold)} ${mark(unsafe.audit.oversold > 0)} (must be > 0: proves the audit can see an oversell)`,
    );
  }
  return lines;
}

/** `EVENT#<id>#SHARD#3` without the event id, which means nothing outside the run. */
function keyLabel(pk: string): string {
  return pk.replace(/^EVENT#[^#]+/, 'EVENT#…');
}

function msOf(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000;
}

function record(values: Record<string, number>): string {
  const entries = Object.entries(values).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '–' : entries.map(([key, value]) => `${key}: ${count(value)}`).join('<br>');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}
