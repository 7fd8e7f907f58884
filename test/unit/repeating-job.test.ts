import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RepeatingJob, startRepeatingJob } from '../../local/repeating-job';

// npm start's sweeper timer, on a fake clock: each run is recorded with when it started and ended.
const interval = 1_000;

/** A job whose runs take `takesMs` each (on the fake clock), unless one is told to fail. */
function recordedJob(takesMs: number) {
  const runs: { startedAt: number; endedAt?: number }[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const failing = new Set<number>();
  const run = async () => {
    const record: { startedAt: number; endedAt?: number } = { startedAt: Date.now() };
    const number = runs.push(record);
    mostInFlight = Math.max(mostInFlight, ++inFlight);
    await new Promise((resolve) => setTimeout(resolve, takesMs));
    inFlight--;
    record.endedAt = Date.now();
    if (failing.has(number)) throw new Error(`run ${number} failed`);
  };
  return { run, runs, failing, mostInFlight: () => mostInFlight };
}

/** Stops the job, letting the fake clock run until the run in progress has ended. */
async function stop(repeating: RepeatingJob): Promise<void> {
  const stopping = repeating.stop();
  await vi.advanceTimersByTimeAsync(10_000);
  await stopping;
}

describe('the repeating job npm start sweeps with', { timeout: 10_000 }, () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs once per interval when runs are quick', async () => {
    const job = recordedJob(10);
    const repeating = startRepeatingJob(job.run, interval, () => {});

    await vi.advanceTimersByTimeAsync(3 * interval + 500);

    expect(job.runs.map((r) => r.startedAt)).toEqual([1_000, 2_000, 3_000]);
    await stop(repeating);
  });

  it('runs a tick that came during a slow run right after it, once however many came, and never two at once', async () => {
    const job = recordedJob(2_500);
    const repeating = startRepeatingJob(job.run, interval, () => {});

    // The first run takes 1,000-3,500: the ticks at 2,000 and 3,000 owe one run, which starts at 3,500
    // (not at the next tick, 4,000) and takes until 6,000, during which the ticks at 4,000-6,000 owe one more.
    await vi.advanceTimersByTimeAsync(6_200);

    expect(job.runs.map((r) => r.startedAt)).toEqual([1_000, 3_500, 6_000]);
    expect(job.mostInFlight()).toBe(1);
    await stop(repeating);
  });

  it('reports a failed run and goes on with the next tick', async () => {
    const job = recordedJob(10);
    job.failing.add(1);
    const errors: unknown[] = [];
    const repeating = startRepeatingJob(job.run, interval, (error) => errors.push(error));

    await vi.advanceTimersByTimeAsync(2 * interval + 500);

    expect(errors).toEqual([new Error('run 1 failed')]);
    expect(job.runs.map((r) => r.startedAt)).toEqual([1_000, 2_000]);
    await stop(repeating);
  });

  it('stops ticking, waits for the run in progress, and does not start the run a tick owed', async () => {
    const job = recordedJob(2_500);
    const repeating = startRepeatingJob(job.run, interval, () => {});
    await vi.advanceTimersByTimeAsync(2_200); // the run of 1,000 is in progress, and the tick of 2,000 owes one

    let stopped = false;
    const stopping = repeating.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(stopped).toBe(false); // the run ends at 3,500
    await vi.advanceTimersByTimeAsync(500);
    await stopping;

    expect(job.runs).toEqual([{ startedAt: 1_000, endedAt: 3_500 }]);
    await vi.advanceTimersByTimeAsync(5 * interval);
    expect(job.runs).toHaveLength(1);
  });
});
