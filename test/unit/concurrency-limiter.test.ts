import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConcurrencyLimiter } from '../../functions/domain/concurrency-limiter';
import { ThroughputExceeded } from '../../functions/domain/errors';

// Deterministic: the limiter's clock is a variable the test moves, its shed timers run on fake
// timers, and every wait for the limiter to react is a bounded number of microtask turns.
beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** Let queued promise reactions run (a slot handed on, a task started); bounded, never a wall-clock wait. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await Promise.resolve();
}

/** Tasks that stay running until the test opens their gate, in start order. */
function gatedTasks() {
  const gates: (() => void)[] = [];
  return {
    task:
      <T>(value: T) =>
      () =>
        new Promise<T>((resolve) => gates.push(() => resolve(value))),
    get open() {
      return gates.length;
    },
    async finishNext(): Promise<void> {
      gates.shift()?.();
      await settle();
    },
  };
}

describe('ConcurrencyLimiter', () => {
  it('runs at most N tasks at once, in arrival order, and sheds load past the queue', async () => {
    const limiter = new ConcurrencyLimiter(2, 2);
    const gated = gatedTasks();
    const started: number[] = [];
    const task = (id: number) =>
      limiter.run(() => {
        started.push(id);
        return gated.task(id)();
      });
    const tasks = [task(1), task(2), task(3), task(4)];
    await expect(task(5)).rejects.toBeInstanceOf(ThroughputExceeded);
    await settle();
    expect(started).toEqual([1, 2]);
    await gated.finishNext();
    expect(started).toEqual([1, 2, 3]);
    for (let finished = 0; finished < 3; finished++) await gated.finishNext();
    expect(await Promise.all(tasks)).toEqual([1, 2, 3, 4]);
    expect(started).toEqual([1, 2, 3, 4]);
  });
});

describe('ConcurrencyLimiter under overload', () => {
  it('answers 503 to a request that waited too long for its turn, without running it', async () => {
    let now = 0;
    const limiter = new ConcurrencyLimiter(1, 10, 1_000, () => now);
    const gated = gatedTasks();
    const first = limiter.run(gated.task('first'));
    let ranLate = false;
    const late = limiter.run(async () => {
      ranLate = true;
    });
    now = 1_001;
    const onTime = limiter.run(async () => 'ran');
    await settle();
    await gated.finishNext();
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
    const gated = gatedTasks();
    const served = () => limiter.run(gated.task('served'));
    // A queue that moves one place every 250 ms: two running, three waiting, one freed at a time.
    const learning = [1, 2, 3, 4, 5].map(served);
    await settle();
    for (let freed = 0; freed < 3; freed++) {
      now += 250;
      await gated.finishNext();
    }
    expect(limiter.queued).toBe(0);
    // The last two learners finish with nobody waiting: nothing more is learned.
    await gated.finishNext();
    await gated.finishNext();
    // Two running again; in line, the n-th would wait n × 250 ms. Up to 8 are within twice the
    // 1,000 ms limit (near the limit the timer decides); the 9th would surely be shed: told at once.
    const running = [1, 2].map(served);
    const queued = Array.from({ length: 8 }, () => limiter.run(async () => 'served'));
    await expect(limiter.run(async () => 'served')).rejects.toBeInstanceOf(ThroughputExceeded);
    expect(limiter.queued).toBe(8);
    await settle();
    await gated.finishNext();
    await gated.finishNext();
    expect(gated.open).toBe(0);
    expect(await Promise.all([...learning, ...running, ...queued])).toEqual(Array(15).fill('served'));
  });

  it('does not learn from the gap after a quiet spell, so a burst that follows is queued, not shed', async () => {
    let now = 0;
    const limiter = new ConcurrencyLimiter(1, 100, 1_000, () => now);
    await limiter.run(async () => 'a');
    now += 60_000; // quiet for a minute: no queue, nothing learned
    const gated = gatedTasks();
    const burst = [1, 2, 3].map(() => limiter.run(gated.task('served')));
    await settle();
    expect(limiter.queued).toBe(2);
    for (let finished = 0; finished < 3; finished++) await gated.finishNext();
    expect(await Promise.all(burst)).toEqual(['served', 'served', 'served']);
  });

  it('queues again after a stall: one long gap between slots freeing does not make it shed every newcomer for good', async () => {
    let now = 0;
    const limiter = new ConcurrencyLimiter(1, 100, 1_000, () => now);
    const gated = gatedTasks();
    const [a, b] = [limiter.run(gated.task('a')), limiter.run(gated.task('b'))];
    const c = expect(limiter.run(gated.task('c'))).rejects.toBeInstanceOf(ThroughputExceeded); // waits through the stall
    await settle();
    await gated.finishNext(); // a frees its slot while b and c wait
    now += 2_500; // a stalled DynamoDB: b takes 2.5 s
    await gated.finishNext();
    await Promise.all([a, b, c]);
    // Normal again: one running, the next two wait their turn instead of being refused at once.
    const after = [1, 2, 3].map(() => limiter.run(gated.task('served')));
    await settle();
    expect(limiter.queued).toBe(2);
    for (let finished = 0; finished < 3; finished++) await gated.finishNext();
    expect(await Promise.all(after)).toEqual(['served', 'served', 'served']);
  });
});

describe('ConcurrencyLimiter when every task in flight is stuck', () => {
  it('sheds a waiting request after its wait limit even though no slot ever frees', async () => {
    const limiter = new ConcurrencyLimiter(1, 10, 50);
    const gated = gatedTasks();
    const stuck = limiter.run(gated.task('stuck'));
    let ran = false;
    const waiting = limiter.run(async () => {
      ran = true;
    });
    const shed = expect(waiting).rejects.toBeInstanceOf(ThroughputExceeded);
    await vi.advanceTimersByTimeAsync(49);
    expect(limiter.queued).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await shed;
    expect(ran).toBe(false);
    expect(limiter.queued).toBe(0);
    await gated.finishNext();
    await stuck;
    // The shed waiter left no trace: the freed slot is usable at once.
    expect(await limiter.run(async () => 'next')).toBe('next');
  });
});

describe('ConcurrencyLimiter lanes', () => {
  it('serves finishing work (a confirm, a release) before new work that waited longer', async () => {
    const limiter = new ConcurrencyLimiter(1, 10);
    const gated = gatedTasks();
    const started: string[] = [];
    const task = (name: string, lane: 'finishing' | 'starting') =>
      limiter.run(() => {
        started.push(name);
        return gated.task(name)();
      }, lane);
    const all = [
      task('running', 'starting'),
      task('hold 1', 'starting'),
      task('hold 2', 'starting'),
      task('confirm', 'finishing'),
      task('release', 'finishing'),
    ];
    await settle();
    for (let finished = 0; finished < all.length; finished++) await gated.finishNext();
    expect(started).toEqual(['running', 'confirm', 'release', 'hold 1', 'hold 2']);
    expect(await Promise.all(all)).toEqual(['running', 'hold 1', 'hold 2', 'confirm', 'release']);
  });

  it('still queues finishing work when new work fills the queue, and sheds only new work', async () => {
    const limiter = new ConcurrencyLimiter(1, 2);
    const gated = gatedTasks();
    const running = limiter.run(gated.task('running'));
    const holds = [limiter.run(gated.task('hold 1')), limiter.run(gated.task('hold 2'))];
    await expect(limiter.run(gated.task('hold 3'))).rejects.toBeInstanceOf(ThroughputExceeded);
    const confirm = limiter.run(gated.task('confirm'), 'finishing');
    expect(limiter.queued).toBe(3);
    await settle();
    for (let finished = 0; finished < 4; finished++) await gated.finishNext();
    expect(await confirm).toBe('confirm');
    expect(await Promise.all([running, ...holds])).toEqual(['running', 'hold 1', 'hold 2']);
  });

  it('predicts a finishing task’s wait from the finishing line alone', async () => {
    let now = 0;
    const limiter = new ConcurrencyLimiter(1, 100, 1_000, () => now);
    const gated = gatedTasks();
    // Learn a queue that moves one place every 500 ms.
    const learning = [1, 2, 3].map(() => limiter.run(gated.task('learned')));
    await settle();
    for (let freed = 0; freed < 2; freed++) {
      now += 500;
      await gated.finishNext();
    }
    await gated.finishNext();
    const running = limiter.run(gated.task('running'));
    // Four new holds in line: a fifth would wait 5 × 500 ms, past twice the limit, and is told at once…
    const holds = [1, 2, 3, 4].map(() => limiter.run(gated.task('hold')));
    await expect(limiter.run(gated.task('hold'))).rejects.toBeInstanceOf(ThroughputExceeded);
    // …while a confirm, first in its line, waits one place.
    const confirm = limiter.run(gated.task('confirm'), 'finishing');
    expect(limiter.queued).toBe(5);
    await settle();
    await gated.finishNext();
    await gated.finishNext();
    expect(await confirm).toBe('confirm');
    for (let finished = 0; finished < 4; finished++) await gated.finishNext();
    expect(await Promise.all([...learning, running, ...holds])).toEqual([...Array(3).fill('learned'), 'running', ...Array(4).fill('hold')]);
  });
});
