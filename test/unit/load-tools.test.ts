import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importJWK, type JWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { strategies } from '../../functions/domain/model';
import { lowerPriority } from '../../load/artillery-runner';
import { benchMarkers, spliceBenchSection } from '../../load/bench-report';
import * as buyer from '../../load/buyer';
import { buyerMix, decisionOf, decisionPollDelayMs, isRetryable, pickFate, pickQuantity, retryDelayMs } from '../../load/buyer';
import { readRushFlags, readStrategies, readStrategy, UsageError } from '../../load/cli-options';
import { deployedLoadTestIssuer } from '../../load/load-test-issuer';
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

/** A buyer as Artillery runs them: its variables, and the metrics its hooks emit. */
function newBuyer(initial: Record<string, unknown> = {}) {
  const metrics: { type: string; name: string; value: number }[] = [];
  const events = { emit: (type: 'counter' | 'histogram', name: string, value: number) => metrics.push({ type, name, value }) };
  const context = {
    vars: { tokensFile: '', authorization: 'Bearer t', idempotencyKey: 'key-1', quantity: 2, fate: 'confirm', attempts: 0, followUpAttempts: 0, ...initial },
  } as never;
  const counter = (name: string) => metrics.filter((m) => m.type === 'counter' && m.name === name).reduce((sum, m) => sum + m.value, 0);
  const histogram = (name: string) => metrics.filter((m) => m.type === 'histogram' && m.name === name).map((m) => m.value);
  const done = () => {};
  const reserve = () => buyer.setReservationRequest({}, context, events, done);
  const answer = (statusCode: number, body: unknown, headers: Record<string, string> = {}) =>
    buyer.recordReservation({}, { statusCode, headers, body: JSON.stringify(body) }, context, events, done);
  const look = (statusCode: number, body: unknown, headers: Record<string, string> = {}) =>
    buyer.recordDecision({}, { statusCode, headers, body: JSON.stringify(body) }, context, events, done);
  const vars = (context as { vars: Record<string, unknown> }).vars;
  return { vars, counter, histogram, reserve, answer, look };
}

describe('a buyer on a queued event', () => {
  it('follows a 202 to its Location and counts a HELD decision as a win timed from the first attempt', () => {
    const b = newBuyer();
    b.reserve();
    b.answer(202, { reservationId: 'res_1', status: 'QUEUED' }, { location: '/reservations/res_1' });
    expect(b.counter('stampede.queued')).toBe(1);
    expect(b.counter('stampede.won')).toBe(0);
    expect(b.vars.decisionPath).toBe('/reservations/res_1');
    expect(buyer.awaitsDecision(b.vars as never)).toBe(true);

    b.look(200, { reservationId: 'res_1', status: 'QUEUED' });
    expect(b.vars.pollInMs).toBeGreaterThan(0);
    b.vars.firstAttemptAt = Date.now() - 1_500;
    b.look(200, { reservationId: 'res_1', status: 'HELD' });
    expect(b.counter('stampede.won')).toBe(1);
    expect(b.counter('stampede.tickets_won')).toBe(2);
    expect(b.histogram('stampede.win_ms')[0]).toBeGreaterThanOrEqual(1_500);
    expect(b.vars.reservationId).toBe('res_1');
    expect(buyer.awaitsDecision(b.vars as never)).toBe(false);
    expect(buyer.confirms(b.vars as never)).toBe(true);
  });

  it('counts a rejection by its reason: sold out like any sold-out answer, another as refused', () => {
    const soldOut = newBuyer();
    soldOut.answer(202, { reservationId: 'res_1', status: 'QUEUED' }, { location: '/reservations/res_1' });
    soldOut.look(200, { reservationId: 'res_1', status: 'REJECTED', rejection: 'sold_out' });
    expect(soldOut.counter('stampede.sold_out')).toBe(1);
    expect(soldOut.vars.reservationId).toBeUndefined();

    const timedOut = newBuyer();
    timedOut.answer(202, { reservationId: 'res_2', status: 'QUEUED' }, { location: '/reservations/res_2' });
    timedOut.look(200, { reservationId: 'res_2', status: 'REJECTED', rejection: 'not_decided' });
    expect(timedOut.counter('stampede.refused.not_decided')).toBe(1);
    expect(timedOut.counter('stampede.sold_out')).toBe(0);
  });

  it('retries a shed look after Retry-After, and walks away undecided when its patience runs out', () => {
    const b = newBuyer();
    b.answer(202, { reservationId: 'res_1', status: 'QUEUED' }, { location: '/reservations/res_1' });
    b.look(503, { error: 'throughput_exceeded' }, { 'retry-after': '2' });
    expect(b.vars.pollInMs).toBeGreaterThanOrEqual(2_000);
    expect(b.counter('stampede.retried')).toBe(1);
    b.vars.decisionDeadline = Date.now() - 1;
    b.look(200, { reservationId: 'res_1', status: 'QUEUED' });
    expect(b.counter('stampede.undecided')).toBe(1);
    expect(b.vars.pollInMs).toBeUndefined();
    expect(b.counter('stampede.final_5xx') + b.counter('stampede.unexpected')).toBe(0);
  });

  it('reads a replay (200) by the status it carries', () => {
    const queued = newBuyer();
    queued.answer(200, { reservationId: 'res_1', status: 'QUEUED' });
    expect(queued.vars.decisionPath).toBe('/reservations/res_1');
    expect(queued.counter('stampede.queued')).toBe(0);
    queued.look(200, { reservationId: 'res_1', status: 'HELD' });
    expect(queued.counter('stampede.replayed')).toBe(1);
    expect(queued.counter('stampede.won')).toBe(0);

    const rejected = newBuyer();
    rejected.answer(200, { reservationId: 'res_2', status: 'REJECTED', rejection: 'sold_out' });
    expect(rejected.counter('stampede.sold_out')).toBe(1);
    expect(rejected.counter('stampede.replayed')).toBe(0);
  });

  it('answered 201 or 409 at once, as on every other strategy, timed from its attempt', () => {
    const winner = newBuyer();
    winner.reserve();
    winner.vars.firstAttemptAt = Date.now() - 42;
    winner.answer(201, { reservationId: 'res_1', status: 'HELD' });
    expect(winner.counter('stampede.won')).toBe(1);
    expect(winner.histogram('stampede.win_ms')).toHaveLength(1);
    expect(winner.histogram('stampede.win_ms')[0]).toBeGreaterThanOrEqual(42);
    expect(winner.histogram('stampede.win_ms')[0]).toBeLessThan(1_000);
    expect(buyer.awaitsDecision(winner.vars as never)).toBe(false);
    const loser = newBuyer();
    loser.reserve();
    loser.answer(409, { error: 'sold_out' });
    expect(loser.counter('stampede.sold_out')).toBe(1);
    expect(loser.histogram('stampede.sold_out_ms')).toHaveLength(1);
  });

  it('times a win or a sold-out answer from the first attempt, retries after 503 included', () => {
    const winner = newBuyer();
    winner.reserve();
    winner.answer(503, { error: 'contention' }, { 'retry-after': '1' });
    winner.vars.firstAttemptAt = Date.now() - 5_500; // the 503 took 4 s, the Retry-After 1 s
    winner.reserve();
    winner.answer(201, { reservationId: 'res_1', status: 'HELD' });
    expect(winner.counter('stampede.won')).toBe(1);
    expect(winner.histogram('stampede.win_ms')[0]).toBeGreaterThanOrEqual(5_500);
    const loser = newBuyer();
    loser.reserve();
    loser.vars.firstAttemptAt = Date.now() - 3_000;
    loser.answer(409, { error: 'sold_out' });
    expect(loser.histogram('stampede.sold_out_ms')[0]).toBeGreaterThanOrEqual(3_000);
  });

  it('looks at the decision sooner first, then backs off to a cap', () => {
    expect(decisionPollDelayMs(1, () => 0.5)).toBe(buyerMix.decisionPollMs.first);
    expect(decisionPollDelayMs(2, () => 0.5)).toBe(2 * buyerMix.decisionPollMs.first);
    expect(decisionPollDelayMs(30, () => 0.5)).toBe(buyerMix.decisionPollMs.max);
    expect(decisionPollDelayMs(30, () => 0.999)).toBeLessThan(1.25 * buyerMix.decisionPollMs.max);
    expect(decisionPollDelayMs(1, () => 0)).toBe(Math.round(0.75 * buyerMix.decisionPollMs.first));
  });

  it('tells a win from a refusal from a wait by the reservation status', () => {
    expect(['HELD', 'CONFIRMED', 'RELEASED', 'EXPIRED'].map(decisionOf)).toEqual(['won', 'won', 'won', 'won']);
    expect(decisionOf('REJECTED')).toBe('rejected');
    expect(decisionOf('QUEUED')).toBe('queued');
    expect(decisionOf(undefined)).toBeUndefined();
  });
});

describe('the rush scenario', () => {
  it('names only hooks the buyer processor exports', () => {
    const yaml = readFileSync(resolve(__dirname, '../../load/rush.yml'), 'utf8');
    const hooks = [...yaml.matchAll(/^\s*-?\s*(?:function|beforeScenario|beforeRequest|afterResponse|ifTrue|whileTrue):\s*(\w+)\s*$/gm)].map(
      ([, name]) => name!,
    );
    expect(hooks).toEqual(expect.arrayContaining(['awaitsDecision', 'recordDecision', 'pauseBeforePoll', 'decisionPending']));
    for (const hook of hooks) expect(typeof (buyer as Record<string, unknown>)[hook], hook).toBe('function');
  });
});

describe('rush flags', () => {
  it('default to the 100,000-buyer rush for 10,000 tickets', () => {
    expect(readRushFlags({})).toEqual({
      buyers: 100_000,
      tickets: 10_000,
      shards: undefined,
      arrivalRate: 300,
      rawSeconds: 10,
      warmUpSeconds: 30,
      holdSeconds: 60,
      artilleryNice: 10,
    });
    expect(readRushFlags({ 'artillery-nice': '0' }).artilleryNice).toBe(0);
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
    expect(() => readRushFlags({ 'artillery-nice': '20' })).toThrow(/--artillery-nice must be at most 19/);
    expect(() => readRushFlags({ 'artillery-nice': '-1' })).toThrow(/--artillery-nice must be an integer >= 0/);
    expect(() => readRushFlags({ tickets: '2000000' })).toThrow(/at most 1000000 \(the API's capacity limit\)/);
    // Bounded in count and time.
    expect(() => readRushFlags({ buyers: '1000001' })).toThrow(/--buyers must be at most 1000000, got 1000001/);
    expect(() => readRushFlags({ 'arrival-rate': '10001' })).toThrow(/--arrival-rate must be at most 10000/);
    expect(() => readRushFlags({ 'raw-seconds': '601' })).toThrow(/--raw-seconds must be at most 600/);
    expect(() => readRushFlags({ 'warm-up-seconds': '601' })).toThrow(/--warm-up-seconds must be at most 600/);
    expect(readRushFlags({ buyers: '1000000', 'raw-seconds': '600' })).toMatchObject({ buyers: 1_000_000, rawSeconds: 600 });
    expect(() => readStrategy('fast')).toThrow(/sharded, transactional/);
    expect(readStrategy(undefined)).toBe('sharded');
    expect(readStrategies('sharded, unsafe')).toEqual(['sharded', 'unsafe']);
    expect(readStrategies(undefined)).toEqual([...strategies]);
    expect(readStrategies('queued,pessimistic')).toEqual(['queued', 'pessimistic']);
  });
});

describe('npm run token --count: a tokens file for Artillery by hand', () => {
  it("mints one token per line, each for its own subject, that the stage's load-test issuer verifies", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stampede-tokens-'));
    const tsx = resolve(__dirname, '../../node_modules/.bin/tsx');
    const tokenCli = resolve(__dirname, '../../bin/token.ts');
    execFileSync(tsx, [tokenCli, '--new-load-test-key', '--out', dir]);
    const target = 'https://api.example.test/';
    const lines = execFileSync(tsx, [tokenCli, '--sub', 'buyer', '--count', '3', '--load-test-key', join(dir, 'private.jwk.json'), '--target', target])
      .toString()
      .trim()
      .split('\n');

    const publicKey = await importJWK(JSON.parse(readFileSync(join(dir, 'public.jwk.json'), 'utf8')) as JWK, 'RS256');
    const { issuer, audience } = deployedLoadTestIssuer(target, {});
    const subjects = await Promise.all(lines.map(async (token) => (await jwtVerify(token, publicKey, { issuer, audience })).payload.sub));
    expect(subjects).toEqual(['buyer-0', 'buyer-1', 'buyer-2']);
    expect(() => execFileSync(tsx, [tokenCli, '--sub', 'buyer', '--count', '0'], { stdio: 'pipe' })).toThrow(/--count takes a whole number/);
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

describe("Artillery's CPU priority", () => {
  it('is lowered, relative to ours, for the process it names, and a failure is said, not thrown', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)'], { stdio: 'ignore' });
    try {
      const ours = getPriority();
      expect(getPriority(child.pid!)).toBe(ours);
      const lines: string[] = [];
      lowerPriority(child.pid!, 5, (line) => lines.push(line));
      expect(getPriority(child.pid!)).toBe(Math.min(ours + 5, 19));
      expect(getPriority()).toBe(ours);
      expect(lines).toEqual([]);
    } finally {
      child.kill();
      await once(child, 'exit');
    }
    const lines: string[] = [];
    lowerPriority(child.pid!, 10, (line) => lines.push(line));
    expect(lines).toEqual([expect.stringMatching(/^ {2}Artillery runs at the stack's CPU priority: setting nice 10 failed/)]);
  });
});
