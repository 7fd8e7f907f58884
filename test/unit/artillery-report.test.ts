import { describe, expect, it } from 'vitest';
import { type ArtilleryOutput, parseArtilleryOutput, timeline } from '../../load/artillery-report';

const t0 = 1_795_319_850_000;

/** The shape `artillery run --output` writes (2.0.21), trimmed to what the parser reads. */
const output: ArtilleryOutput = {
  aggregate: {
    counters: {
      'vusers.created': 3_000,
      'vusers.completed': 2_990,
      'vusers.failed': 10,
      'http.requests': 3_500,
      'http.responses': 3_490,
      'http.codes.201': 260,
      'http.codes.200': 230,
      'http.codes.202': 40,
      'http.codes.409': 2_990,
      'http.codes.503': 10,
      'errors.ETIMEDOUT': 10,
      'stampede.won': 258,
      'stampede.replayed': 2,
      'stampede.tickets_won': 340,
      'stampede.sold_out': 2_730,
      'stampede.refused.buyer_limit_exceeded': 2,
      'stampede.refused.not_decided': 1,
      'stampede.queued': 40,
      'stampede.undecided': 3,
      'stampede.retried': 10,
      'stampede.gave_up': 0,
      'stampede.final_5xx': 0,
      'stampede.confirmed': 200,
      'stampede.released': 30,
      'stampede.walked_away': 28,
    },
    summaries: {
      'http.response_time': { min: 1, max: 900, count: 3_490, p50: 12, median: 12, p95: 300, p99: 700 },
      'stampede.win_ms': { min: 20, max: 900, count: 260, median: 120, p95: 500, p99: 800 },
      'stampede.sold_out_ms': { min: 1, max: 90, count: 2_730, p50: 8, median: 8, p95: 40, p99: 70 },
    },
    firstMetricAt: t0 + 2_500,
    lastMetricAt: t0 + 22_500,
    period: t0,
  },
  intermediate: [
    {
      counters: { 'http.responses': 2_000, 'stampede.won': 250, 'stampede.sold_out': 1_500 },
      summaries: { 'stampede.win_ms': { count: 250, p50: 100, p95: 400, p99: 600 } },
      period: String(t0 + 10_000),
      lastMetricAt: t0 + 19_999,
    },
    {
      counters: { 'http.responses': 1_200, 'stampede.won': 8, 'stampede.sold_out': 1_100 },
      period: String(t0),
      lastMetricAt: t0 + 9_999,
    },
    {
      counters: { 'http.responses': 290, 'stampede.sold_out': 130 },
      summaries: { 'stampede.sold_out_ms': { count: 130, p50: 5, p95: 9, p99: 12 } },
      period: String(t0 + 20_000),
      lastMetricAt: t0 + 22_500,
    },
  ],
};

describe('Artillery output', () => {
  const report = parseArtilleryOutput(output);

  it('counts buyers, answers by status and requests that got no answer', () => {
    expect(report).toMatchObject({ buyers: 3_000, buyersCompleted: 2_990, buyersFailed: 10, requests: 3_500, responses: 3_490 });
    expect(report.statuses).toEqual({ '200': 230, '201': 260, '202': 40, '409': 2_990, '503': 10 });
    expect(report.errors).toEqual({ ETIMEDOUT: 10 });
  });

  it("reads the buyer processor's counters", () => {
    expect(report).toMatchObject({
      holds: 258,
      replays: 2,
      ticketsWon: 340,
      soldOut: 2_730,
      retried: 10,
      final5xx: 0,
      confirmed: 200,
      released: 30,
      walkedAway: 28,
      queued: 40,
      undecided: 3,
    });
    expect(report.refused).toEqual({ buyer_limit_exceeded: 2, not_decided: 1 });
  });

  it('keeps the latency of wins and of sold-out answers apart (median when p50 is missing)', () => {
    expect(report.winLatency).toEqual({ count: 260, p50: 120, p95: 500, p99: 800, max: 900 });
    expect(report.soldOutLatency).toEqual({ count: 2_730, p50: 8, p95: 40, p99: 70, max: 90 });
  });

  it('measures the run from its first to its last metric', () => {
    expect(report.durationSeconds).toBe(20);
    expect(report.requestsPerSecond).toBeCloseTo(3_490 / 20);
  });

  it('turns the 10 s periods into rates, in time order, narrower at the edges', () => {
    expect(report.timeline.map((point) => [point.at, point.width, point.requestsPerSecond])).toEqual([
      [0, 7.5, 1_200 / 7.5],
      [7.5, 10, 200],
      [17.5, 2.5, 116],
    ]);
    expect(report.timeline[1]).toMatchObject({ winsPerSecond: 25, soldOutPerSecond: 150, winLatency: { p95: 400 } });
    expect(report.timeline[2]?.soldOutLatency.p99).toBe(12);
  });

  it('has an empty timeline and zero counts for an empty report', () => {
    expect(timeline([])).toEqual([]);
    const empty = parseArtilleryOutput({ aggregate: {} });
    expect(empty).toMatchObject({ buyers: 0, requestsPerSecond: 0, queued: 0, undecided: 0, winLatency: { count: 0 } });
  });
});
