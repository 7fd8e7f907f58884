import { describe, expect, it } from 'vitest';
import type { AuditReport } from '../../functions/audit/audit-event';
import { parseArtilleryOutput } from '../../load/artillery-report';
import { benchMarkdown } from '../../load/bench-report';
import { derive } from '../../load/derived';
import { fcfsFairness } from '../../load/fairness';
import type { RushResult } from '../../load/rush';
import { outcomes } from '../../load/rush-metrics';
import { fairnessText, formatSummary, rushExitCode } from '../../load/summary';

function audit(violations: number, oversold = 0): AuditReport {
  return {
    eventId: 'evt_1',
    strategy: 'sharded',
    capacity: 200,
    remaining: 0,
    held: 20,
    heldExpired: 0,
    confirmed: 180 + oversold,
    sold: 200 + oversold,
    oversold,
    inflated: 0,
    lost: 0,
    reservations: 190,
    buyers: 190,
    buyersOverLimit: 0,
    doubleHolds: 0,
    pending: 0,
    unsweptExpired: 0,
    pendingNotYetDue: 0,
    queued: 0,
    rejected: 0,
    undecided: 0,
    released: 0,
    expired: 0,
    violations: Array.from({ length: violations }, () => ({ kind: 'oversold' as const, message: 'too many' })),
  };
}

function result(strategy: RushResult['options']['strategy'], report: AuditReport, artilleryExitCode = 0): RushResult {
  const load = parseArtilleryOutput({ aggregate: { counters: { 'vusers.created': 2_000, 'http.responses': 2_100, 'stampede.won': 180 } } });
  return {
    options: { buyers: 2_000, tickets: 200, strategy, arrivalRate: 500, rawSeconds: 2, artilleryNice: 10, outputDir: '/tmp/x' },
    startedAt: '2026-11-22T00:00:00.000Z',
    wallSeconds: 30,
    eventId: 'evt_1',
    shards: 16,
    phases: [],
    artilleryExitCode,
    load,
    audit: report,
    quiet: true,
    cpuSeconds: { artillery: 2.1, api: 4.2 },
    derived: derive(load, report, undefined, undefined, { artillery: 2.1, api: 4.2 }),
  };
}

describe('API/raw', () => {
  it("divides the API's closed-loop holds by the raw baseline's, both measured with nothing else running", () => {
    const load = parseArtilleryOutput({ aggregate: { counters: { 'vusers.created': 10 } } });
    const raw = { strategy: 'sharded' as const, holds: 4_000, seconds: 10, holdsPerSecond: 400, calls: 4_000, soldOut: false };
    const apiClosedLoop = { seconds: 10, concurrency: 64, count: 3_400, perSecond: 340, otherAnswers: {} };
    const soldOutProbe = { seconds: 5, concurrency: 32, count: 8_500, perSecond: 1_700, otherAnswers: {} };
    const derived = derive(load, undefined, undefined, raw, {}, { apiClosedLoop, soldOutProbe });
    expect(derived.apiToRaw).toBeCloseTo(0.85);
    expect(derived.soldOutProbeTimesApiHoldRate).toBeCloseTo(5);
    expect(derive(load, undefined, undefined, raw, {}).apiToRaw).toBeUndefined();
  });

  it('is not given when either side ran out of tickets: a rate over a partly idle loop would understate it', () => {
    const load = parseArtilleryOutput({ aggregate: { counters: { 'vusers.created': 10 } } });
    const raw = { strategy: 'sharded' as const, holds: 500, seconds: 3.2, holdsPerSecond: 156, calls: 500, soldOut: true };
    const untilSoldOut = { seconds: 10, concurrency: 64, count: 500, perSecond: 50, otherAnswers: { '409 sold_out': 7_986 } };
    expect(derive(load, undefined, undefined, raw, {}, { apiClosedLoop: untilSoldOut }).apiToRaw).toBeUndefined();
    const fullLoop = { seconds: 10, concurrency: 64, count: 1_300, perSecond: 130, otherAnswers: {} };
    expect(derive(load, undefined, undefined, raw, {}, { apiClosedLoop: fullLoop }).apiToRaw).toBeUndefined();
    expect(derive(load, undefined, undefined, { ...raw, soldOut: false }, {}, { apiClosedLoop: fullLoop }).apiToRaw).toBeCloseTo(130 / 156);
  });

  it("sets the API's DynamoDB calls per hold beside the raw baseline's, and says so in the summary", () => {
    const load = parseArtilleryOutput({ aggregate: { counters: { 'vusers.created': 10 } } });
    const raw = { strategy: 'queued' as const, holds: 800, seconds: 10, holdsPerSecond: 80, calls: 984, soldOut: false };
    const apiClosedLoop = {
      seconds: 10,
      concurrency: 64,
      count: 1_000,
      perSecond: 100,
      otherAnswers: {},
      dynamoDbCalls: { TransactWriteItems: 1_150, BatchGetItem: 1_300, TransactGetItems: 190, Query: 512 },
    };
    const derived = derive(load, undefined, undefined, raw, {}, { apiClosedLoop });
    expect(derived.dynamoDbCallsPerHold?.raw).toBeCloseTo(1.23);
    expect(derived.dynamoDbCallsPerHold?.api).toBeCloseTo(2.64);
    const withoutTally = derive(load, undefined, undefined, raw, {}, { apiClosedLoop: { ...apiClosedLoop, dynamoDbCalls: undefined } });
    expect(withoutTally.dynamoDbCallsPerHold?.api).toBeUndefined();
    const queuedResult = { ...result('queued', audit(0)), raw, apiClosedLoop, derived };
    expect(formatSummary(queuedResult)).toContain('DynamoDB calls per hold: raw 1.23, API 2.64');
    const meta = { command: 'npm run bench', date: 'today', machine: 'this one', chartPath: 'chart.svg', wallSeconds: 60 };
    const markdown = benchMarkdown([queuedResult], meta);
    expect(markdown).toContain('| API/raw | DynamoDB calls per hold: raw / API |');
    expect(markdown).toContain('| 1.25 | 1.23 / 2.64 |');
  });
});

describe('the sold-out probe in the summary', () => {
  it('prints the closed-loop rate, the other answers and the writes', () => {
    const base = result('sharded', audit(0));
    const probe = { seconds: 5, concurrency: 32, count: 7_500, perSecond: 1_500, otherAnswers: { '503': 3 }, writes: 0 };
    const summary = formatSummary({
      ...base,
      soldOutProbe: probe,
      derived: { ...base.derived, soldOutProbeTimesHoldRate: 6.25, soldOutProbeTimesApiHoldRate: 2.5 },
    });
    expect(summary).toContain(
      "Sold-out probe (closed loop, 32 clients, 5.0 s): 1,500 sold-out answers/s, 6.3× the rush's hold rate, 2.5× the API's closed-loop hold rate, 3 × 503; 0 DynamoDB writes",
    );
  });

  it("keeps the writes of a sale made meanwhile apart from the refusals' (a walkaway's ticket came back during the probe)", () => {
    const base = result('optimistic', audit(0));
    const probe = { seconds: 5, concurrency: 32, count: 8_000, perSecond: 1_600, otherAnswers: { '201': 1 }, writes: 0, otherWrites: 3 };
    const withProbe = { ...base, soldOutProbe: probe, derived: { ...base.derived, soldOutProbeTimesHoldRate: 100, soldOutProbeTimesApiHoldRate: 50 } };
    expect(formatSummary(withProbe)).toContain('1 × 201; 0 DynamoDB writes for them, 3 for the other answers');
    const markdown = benchMarkdown([withProbe], { command: 'npm run bench', date: 'today', machine: 'this one', chartPath: 'chart.svg', wallSeconds: 60 });
    expect(markdown).toContain('| 0 (3 for 1 × 201) |');
    expect(markdown).toContain(", 0 for the probe's 8,000 ✅ (0 writes)");
  });

  it('says why it did not run', () => {
    const summary = formatSummary({ ...result('sharded', audit(0)), soldOutProbeSkipped: 'the event was not sold out (4 available)' });
    expect(summary).toContain('Sold-out probe skipped: the event was not sold out (4 available)');
  });
});

describe('the rush verdict', () => {
  it('fails a safe strategy on any audit violation', () => {
    expect(rushExitCode(result('sharded', audit(0)))).toBe(0);
    expect(rushExitCode(result('transactional', audit(1)))).toBe(1);
  });

  it('expects the unsafe control to oversell, and reports it', () => {
    const control = result('unsafe', audit(2, 680));
    expect(rushExitCode(control)).toBe(0);
    expect(formatSummary(control)).toContain('oversold 680');
  });

  it('fails when an Artillery ensure check failed', () => {
    expect(rushExitCode(result('sharded', audit(0), 1))).toBe(1);
  });

  it('prints CPU per request from the CPU seconds and the answers', () => {
    const summary = formatSummary(result('sharded', audit(0)));
    expect(summary).toContain('CPU ms per request: Artillery 1.00, API 2.00, DynamoDB Local n/a');
    expect(summary).toContain('audit OK');
  });
});

describe('a queued rush in the summary', () => {
  const load = parseArtilleryOutput({
    aggregate: { counters: { 'vusers.created': 2_000, 'http.responses': 4_000, 'stampede.won': 480, 'stampede.queued': 1_200, 'stampede.undecided': 4 } },
  });
  const queued: RushResult = {
    ...result('queued', audit(0)),
    load,
    decisionLatency: { count: 1_900, p50: 180, p99: 2_400, max: 3_100, held: 480, rejected: { sold_out: 1_418, not_decided: 2 } },
    fairness: {
      buyers: { line: 2_000, winners: 480, ideal: 400, idealWon: 392, share: 0.98, winnersOutsideIdeal: 88, onlyWinnersInLine: false },
      written: { line: 1_900, winners: 480, ideal: 410, idealWon: 410, share: 1, winnersOutsideIdeal: 70, onlyWinnersInLine: false },
    },
  };

  it('counts the requests answered 202 and the buyers who stopped waiting', () => {
    expect(formatSummary(queued)).toContain('Queued: 1,200 requests answered 202 and followed to their decision; 4 buyer(s) stopped waiting before it came');
  });

  it('gives the decision latency from the table, with what the decisions were', () => {
    expect(formatSummary(queued)).toContain(
      'Decision latency (arrival to decision, from the table): p50/p99/max 180/2,400/3,100 ms over 1,900 decided requests (held 480, rejected sold_out 1,418, rejected not_decided 2)',
    );
    expect(formatSummary(result('sharded', audit(0)))).not.toContain('Decision latency');
  });

  it('gives both lines of fairness', () => {
    expect(formatSummary(queued)).toContain("buyers' line by first attempt 0.980 (392 of 400); line of written requests by createdAt 1.000 (410 of 410)");
  });

  it('reads holds per second from the decisions when the holds are not API answers', () => {
    const holdTimeline = [
      { second: 2, answers: { [outcomes.hold]: 100 }, writes: {} },
      { second: 3, answers: { [outcomes.hold]: 300 }, writes: {} },
    ];
    const derived = derive(load, audit(0), undefined, undefined, {}, { holdTimeline });
    expect(derived.selling).toMatchObject({ firstSecond: 2, lastSecond: 3, holds: 400, holdsPerSecond: 200 });
    expect(derived.ticketsPerSecond).toBe(100);
  });

  it("says when Artillery ran at the stack's own CPU priority", () => {
    const equal = result('sharded', audit(0));
    const markdown = benchMarkdown([{ ...equal, options: { ...equal.options, artilleryNice: 0 } }], {
      command: 'npm run bench -- --artillery-nice 0',
      date: 'today',
      machine: 'this one',
      chartPath: 'chart.svg',
      wallSeconds: 60,
    });
    expect(markdown).toContain("(Artillery, one buyer per virtual user, at the stack's CPU priority) for 200 tickets");
  });

  it('puts a fairness column for every strategy, and the decision latency, into the bench report', () => {
    const markdown = benchMarkdown([result('transactional', audit(0)), queued], {
      command: 'npm run bench',
      date: 'today',
      machine: 'this one',
      chartPath: 'chart.svg',
      wallSeconds: 60,
    });
    expect(markdown).toContain("(Artillery, one buyer per virtual user, 10 nice steps below the stack's CPU priority) for 200 tickets");
    expect(markdown).toContain("| fairness: buyers' line | fairness: written requests |");
    expect(markdown).toContain('| OK | 0.980 (392 of 400) | 1.000 (410 of 410) |');
    expect(markdown).toContain('| OK | n/a | n/a |');
    expect(markdown).toContain('| 180/2,400/3,100 |');
  });
});

describe('self-healing and the read and index ceilings in the report', () => {
  const healed = (): RushResult => {
    const base = result('sharded', { ...audit(0), released: 12, expired: 9, remaining: 0 });
    const capacity = {
      since: 0,
      at: 1,
      inFlight: 0,
      operations: {},
      outcomes: { 'ReserveTickets 201': { requests: 400, reads: 0, writes: 400, readUnits: 0, writeUnits: 2_400 } },
      keyKinds: {},
      hottestKeys: [{ pk: 'EVENT#e#SHARD#3', kind: 'EVENT#SHARD', reads: 0, writes: 60, readUnits: 0, writeUnits: 120, failedWriteUnits: 0 }],
      hottestReadKeys: [],
      hottestIndexKeys: [{ pk: 'GSI:sweep:SWEEP#9', kind: 'GSI:sweep:SWEEP', reads: 0, writes: 10, readUnits: 0, writeUnits: 16, failedWriteUnits: 0 }],
      totals: { readUnits: 0, writeUnits: 2_400, consumedReadUnits: 0, consumedWriteUnits: 0 },
      timeline: [],
    };
    const sweeps = { sweeps: 30, expired: 9, ticketsReturned: 11, repaired: 0, lagsMs: [1_000, 2_000, 4_000], tookMs: [200, 300, 900] };
    const environmentProbes = { refusals: { readUnitsPerAnswer: 0.05 }, eventPage: { readUnitsPerAnswer: 0.1 } };
    const derived = derive(base.load, base.audit, capacity, undefined, {}, { sweeps, environmentProbes } as never);
    return { ...base, sweeps, derived };
  };

  it('projects the sweep index from its busiest key: write units per hold against 1,000 WCU/s', () => {
    const { derived } = healed();
    expect(derived.sweepIndexCeiling).toEqual({ pk: 'GSI:sweep:SWEEP#9', writeUnitsPerHold: 0.04, holdsPerSecond: 25_000 });
    expect(formatSummary(healed())).toContain(
      'Sweep index (a GSI; a throttled one throttles the table): busiest key SWEEP#9, 0.040 WCU per hold -> it reaches 1,000 WCU/s at 25,000 holds/s for all events together',
    );
  });

  it('puts walkaways, sweep lag and both ceilings into the bench report', () => {
    const markdown = benchMarkdown([healed()], { command: 'npm run bench', date: 'today', machine: 'this one', chartPath: 'chart.svg', wallSeconds: 60 });
    expect(markdown).toContain('### Holds that ran out (walkaways) and the sweeper');
    expect(markdown).toContain('| sharded | 9 (11) | 2,000/4,000/4,000 | 300/900/900 | 12, 9 |');
    expect(formatSummary(healed())).toContain('sweep lag ms p50/p99/max 2,000/4,000/4,000 (30 sweeps, each took ms p50/p99/max 300/900/900)');
    expect(markdown).toContain('| 60,000 (0.0500) | 30,000 (0.1000) |');
    expect(markdown).toContain('| 0.040 → 25,000 |');
  });
});

describe('a fairness figure', () => {
  it('says when it is 1 by construction, since only holds were written', () => {
    const onlyHolds = fcfsFairness([{ id: 'a', arrivedAt: 1, quantity: 1, won: true }], 1);
    expect(fairnessText(onlyHolds)).toBe('1 by construction (only holds are written: 1)');
    expect(fairnessText(undefined)).toBe('n/a');
    expect(fairnessText(fcfsFairness([], 5))).toBe('n/a (0 in line)');
  });
});
