import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, loadConfig } from '../../functions/config';
import { ConcurrencyLimiter } from '../../functions/domain/concurrency-limiter';
import { ThroughputExceeded } from '../../functions/domain/errors';
import { Router } from '../../local/router';
import { zipWithout } from '../../local/zip-without';
import { routes } from '../../lib/routes';

describe('local router', () => {
  const router = new Router(routes);

  it('matches every route in the table with its path parameters', () => {
    expect(router.match('POST', '/events')?.route.id).toBe('CreateEvent');
    expect(router.match('GET', '/events/evt_1')).toMatchObject({ route: { id: 'GetEvent' }, pathParameters: { eventId: 'evt_1' } });
    expect(router.match('POST', '/events/evt_1/reservations')?.route.id).toBe('ReserveTickets');
    expect(router.match('POST', '/reservations/res_1/confirm')).toMatchObject({ pathParameters: { reservationId: 'res_1' } });
    expect(router.match('DELETE', '/reservations/res_1')?.route.id).toBe('ReleaseReservation');
  });

  it('does not match other methods or deeper paths', () => {
    expect(router.match('PUT', '/events')).toBeUndefined();
    expect(router.match('GET', '/events/evt_1/extra')).toBeUndefined();
    expect(router.match('GET', '/events/')).toBeUndefined();
  });
});

describe('configuration', () => {
  it('reads the environment once, with local defaults when an endpoint is set', () => {
    expect(loadConfig({ TABLE_NAME: 'tickets', DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' })).toEqual({
      tableName: 'tickets',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:8000',
      allowUnsafe: false,
      maxSockets: 64,
      maxConcurrentRequests: 64,
      maxQueuedRequests: 20_000,
      maxQueueWaitMs: 5_000,
      holdBudgetMs: 6_000,
      maxTransactionItems: 10,
      emitMetrics: false,
    });
    expect(loadConfig({ TABLE_NAME: 'tickets', AWS_REGION: 'eu-west-1' })).toMatchObject({ endpoint: undefined, maxTransactionItems: 100 });
  });

  it('fails at cold start naming every bad variable', () => {
    expect(() => loadConfig({ STAMPEDE_ALLOW_UNSAFE: 'yes', STAMPEDE_MAX_SOCKETS: '-1' })).toThrow(ConfigurationError);
    expect(() => loadConfig({ STAMPEDE_ALLOW_UNSAFE: 'yes' })).toThrow(/TABLE_NAME.*AWS_REGION.*STAMPEDE_ALLOW_UNSAFE/);
  });
});

describe('ConcurrencyLimiter', () => {
  it('runs at most N tasks at once, in arrival order, and sheds load past the queue', async () => {
    const limiter = new ConcurrencyLimiter(2, 2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const task = (id: number) =>
      limiter.run(async () => {
        order.push(id);
        peak = Math.max(peak, ++running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
      });
    const tasks = [task(1), task(2), task(3), task(4)];
    await expect(task(5)).rejects.toBeInstanceOf(ThroughputExceeded);
    while (order.length < 4 || gates.length > 0) {
      gates.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await Promise.all(tasks);
    expect(order).toEqual([1, 2, 3, 4]);
    expect(peak).toBe(2);
  });
});

describe('ConcurrencyLimiter under overload', () => {
  it('answers 503 to a request that waited too long for its turn, without running it', async () => {
    let now = 0;
    const limiter = new ConcurrencyLimiter(1, 10, 1_000, () => now);
    let finishFirst!: () => void;
    const first = limiter.run(() => new Promise<void>((resolve) => (finishFirst = resolve)));
    let ranLate = false;
    const late = limiter.run(async () => void (ranLate = true));
    now = 1_001;
    const onTime = limiter.run(async () => 'ran');
    await new Promise((resolve) => setTimeout(resolve, 0)); // let the first task start
    finishFirst();
    await first;
    await expect(late).rejects.toBeInstanceOf(ThroughputExceeded);
    expect(ranLate).toBe(false);
    expect(await onTime).toBe('ran');
  });
});

describe('ConcurrencyLimiter under sustained overload', () => {
  it('answers 503 at once to a request whose wait would predictably pass the limit, and queues the rest', async () => {
    let now = 0;
    const limiter = new ConcurrencyLimiter(2, 100, 1_000, () => now);
    const gates: (() => void)[] = [];
    const gated = () => limiter.run(() => new Promise<string>((resolve) => gates.push(() => resolve('served'))));
    const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
    // A queue that moves one place every 250 ms: two running, three waiting, one freed at a time.
    const learning = [1, 2, 3, 4, 5].map(gated);
    for (let freed = 0; freed < 3; freed++) {
      await tick();
      now += 250;
      gates.shift()!();
    }
    await tick();
    expect(limiter.queued).toBe(0);
    for (let freed = 0; freed < 2; freed++) {
      gates.shift()!(); // the last two learners finish with nobody waiting: nothing more learned
      await tick();
    }
    // Two running again; in line, the n-th would wait n × 250 ms. Up to 8 are within twice the
    // 1,000 ms limit (near the limit the timer decides); the 9th would surely be shed: told at once.
    const running = [1, 2].map(gated);
    const queued = Array.from({ length: 8 }, () => limiter.run(async () => 'served'));
    await expect(limiter.run(async () => 'served')).rejects.toBeInstanceOf(ThroughputExceeded);
    expect(limiter.queued).toBe(8);
    await tick();
    while (gates.length > 0) {
      gates.shift()!();
      await tick();
    }
    expect(await Promise.all([...learning, ...running, ...queued])).toEqual(Array(15).fill('served'));
  });

  it('does not learn from the gap after a quiet spell, so a burst that follows is queued, not shed', async () => {
    let now = 0;
    const limiter = new ConcurrencyLimiter(1, 100, 1_000, () => now);
    const first = limiter.run(async () => 'a');
    await first;
    now += 60_000; // quiet for a minute: no queue, nothing learned
    const gates: (() => void)[] = [];
    const burst = [1, 2, 3].map(() => limiter.run(() => new Promise<string>((resolve) => gates.push(() => resolve('served')))));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(limiter.queued).toBe(2);
    while (gates.length > 0 || limiter.queued > 0) {
      gates.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(await Promise.all(burst)).toEqual(['served', 'served', 'served']);
  });
});

describe('ConcurrencyLimiter when every task in flight is stuck', () => {
  it('sheds a waiting request after its wait limit even though no slot ever frees', async () => {
    const limiter = new ConcurrencyLimiter(1, 10, 50);
    let finishStuck!: () => void;
    const stuck = limiter.run(() => new Promise<void>((resolve) => (finishStuck = resolve)));
    let ran = false;
    const started = Date.now();
    await expect(limiter.run(async () => void (ran = true))).rejects.toBeInstanceOf(ThroughputExceeded);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(ran).toBe(false);
    expect(limiter.queued).toBe(0);
    finishStuck();
    await stuck;
    // The shed waiter left no trace: the freed slot is usable at once.
    expect(await limiter.run(async () => 'next')).toBe('next');
  });
});

describe('zipWithout (log4j JndiLookup removal)', () => {
  it('drops exactly the named entries and keeps a valid archive', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zip-'));
    writeFileSync(join(dir, 'keep.txt'), 'keep me');
    writeFileSync(join(dir, 'drop.class'), 'drop me');
    execFileSync('zip', ['-q', 'a.zip', 'keep.txt', 'drop.class'], { cwd: dir });
    const { archive, removedCount } = zipWithout(readFileSync(join(dir, 'a.zip')), new Set(['drop.class']));
    writeFileSync(join(dir, 'b.zip'), archive);
    expect(removedCount).toBe(1);
    expect(execFileSync('unzip', ['-Z1', 'b.zip'], { cwd: dir }).toString().trim()).toBe('keep.txt');
    expect(execFileSync('unzip', ['-p', 'b.zip', 'keep.txt'], { cwd: dir }).toString()).toBe('keep me');
  });
});
