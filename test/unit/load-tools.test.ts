import { describe, expect, it } from 'vitest';
import { benchMarkers, spliceBenchSection } from '../../load/bench-report';
import { buyerMix, isRetryable, pickFate, pickQuantity, retryDelayMs } from '../../load/buyer';
import { readRushFlags, readStrategies, readStrategy, UsageError } from '../../load/cli-options';
import { parseProcStat } from '../../load/proc-stat';
import { ticks, timelineChart } from '../../load/svg-chart';

describe('buyers', () => {
  it('mostly want one ticket, some two to four', () => {
    expect(pickQuantity(() => 0)).toBe(1);
    expect(pickQuantity(() => 0.79)).toBe(1);
    expect(pickQuantity(() => 0.8)).toBe(2);
    expect(pickQuantity(() => 0.93)).toBe(3);
    expect(pickQuantity(() => 0.99)).toBe(4);
    expect(buyerMix.quantityShares.reduce((sum, share) => sum + share, 0)).toBeCloseTo(1);
  });

  it('mostly confirm a hold, some release it, some walk away', () => {
    expect(pickFate(() => 0.1)).toBe('confirm');
    expect(pickFate(() => 0.85)).toBe('release');
    expect(pickFate(() => 0.95)).toBe('walkAway');
  });

  it('retry 429 and 503 no sooner than Retry-After (capped), spread over one more Retry-After', () => {
    expect(isRetryable(503)).toBe(true);
    expect(isRetryable(429)).toBe(true);
    expect(isRetryable(500)).toBe(false);
    expect(isRetryable(409)).toBe(false);
    expect(retryDelayMs('2', () => 0)).toBe(2_000);
    expect(retryDelayMs(['3'], () => 0.5)).toBe(4_500);
    expect(retryDelayMs(['3'], () => 0.999)).toBe(5_997);
    expect(retryDelayMs('3600', () => 0)).toBe(buyerMix.maxRetryAfterSeconds * 1_000);
    expect(retryDelayMs('3600', () => 0.999)).toBeLessThan(2 * buyerMix.maxRetryAfterSeconds * 1_000);
    expect(retryDelayMs(undefined, () => 0)).toBe(1_000);
    expect(retryDelayMs('Wed, 21 Oct 2026 07:28:00 GMT', () => 0)).toBe(1_000);
  });
});

describe('rush flags', () => {
  it('default to the 100,000-buyer rush for 10,000 tickets', () => {
    expect(readRushFlags({})).toEqual({ buyers: 100_000, tickets: 10_000, shards: undefined, arrivalRate: 300, rawSeconds: 10, warmUpSeconds: 30, holdSeconds: 60 });
    expect(readRushFlags({ buyers: '2_000', tickets: '200', shards: '4', 'arrival-rate': '500', 'raw-seconds': '0' })).toMatchObject({
      buyers: 2_000,
      tickets: 200,
      shards: 4,
      arrivalRate: 500,
      rawSeconds: 0,
    });
  });

  it('say what was wrong', () => {
    expect(() => readRushFlags({ buyers: 'many' })).toThrow(UsageError);
    expect(() => readRushFlags({ 'hold-seconds': '10' })).toThrow(/--hold-seconds must be an integer >= 30/);
    expect(() => readRushFlags({ tickets: '2000000' })).toThrow(/at most 1000000 \(the API's capacity limit\)/);
    expect(() => readStrategy('fast')).toThrow(/sharded, transactional/);
    expect(readStrategy(undefined)).toBe('sharded');
    expect(readStrategies('sharded, unsafe')).toEqual(['sharded', 'unsafe']);
    expect(readStrategies(undefined)).toHaveLength(5);
  });
});

describe('CPU time from /proc/<pid>/stat', () => {
  it('reads utime and stime even when the command name has spaces and parentheses', () => {
    const line = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 567 0 0 20 0 11 0 100 1000000 5000';
    expect(parseProcStat(line)).toEqual({ user: 1_234, system: 567 });
  });

  it('refuses something else', () => {
    expect(() => parseProcStat('nonsense')).toThrow(/proc/);
  });
});

describe('the bench chart and report', () => {
  it('picks round ticks', () => {
    expect(ticks(1_000)).toEqual([0, 200, 400, 600, 800, 1_000]);
    expect(ticks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(ticks(0)).toEqual([0]);
  });

  it('draws one colour per strategy with both panels', () => {
    const point = {
      at: 0,
      width: 10,
      requestsPerSecond: 900,
      winsPerSecond: 300,
      soldOutPerSecond: 600,
      latency: { count: 1, p95: 50 },
      winLatency: { count: 1, p95: 80 },
      soldOutLatency: { count: 1, p95: 20 },
    };
    const svg = timelineChart(
      [
        { name: 'sharded', points: [point, { ...point, at: 10 }] },
        { name: 'unsafe <control>', points: [point] },
      ],
      'Rush',
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('sharded');
    expect(svg).toContain('unsafe &lt;control&gt;');
    // Two strategies × (answers, holds, win p95, sold-out p95); a single period is drawn as dots.
    expect(svg.match(/<path /g)?.length).toBe(8);
    expect(svg.match(/<circle /g)?.length).toBe(4);
  });

  it('replaces only its own section of BENCHMARKS.md', () => {
    const section = `${benchMarkers.start}\nnew\n${benchMarkers.end}`;
    const existing = `# Benchmarks\n\nnotes before\n\n${benchMarkers.start}\nold\n${benchMarkers.end}\n\nnotes after\n`;
    expect(spliceBenchSection(existing, section)).toBe(`# Benchmarks\n\nnotes before\n\n${section}\n\nnotes after\n`);
    expect(spliceBenchSection(undefined, section)).toContain(section);
    expect(spliceBenchSection('# Mine\n', section)).toBe(`# Mine\n\n${section}\n`);
  });
});
