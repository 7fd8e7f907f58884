import { describe, expect, it } from 'vitest';
import type { AuditReport } from '../../functions/audit/audit-event';
import { parseArtilleryOutput } from '../../load/artillery-report';
import { derive } from '../../load/derived';
import type { RushResult } from '../../load/rush';
import { formatSummary, rushExitCode } from '../../load/summary';

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
    lost: 0,
    reservations: 190,
    buyers: 190,
    buyersOverLimit: 0,
    doubleHolds: 0,
    pending: 0,
    unsweptExpired: 0,
    pendingNotYetDue: 0,
    released: 0,
    expired: 0,
    violations: Array.from({ length: violations }, () => ({ kind: 'oversold' as const, message: 'too many' })),
  };
}

function result(strategy: RushResult['options']['strategy'], report: AuditReport, artilleryExitCode = 0): RushResult {
  const load = parseArtilleryOutput({ aggregate: { counters: { 'vusers.created': 2_000, 'http.responses': 2_100, 'stampede.won': 180 } } });
  return {
    options: { buyers: 2_000, tickets: 200, strategy, arrivalRate: 500, rawSeconds: 2, outputDir: '/tmp/x' },
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
