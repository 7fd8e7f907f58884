export interface RepeatingJob {
  /** No tick after this, and a run a tick owed does not start; resolves once the run in progress has ended. */
  stop(): Promise<void>;
}

/**
 * Runs `run` every `intervalMs`, one run at a time, as `npm start` runs the scheduled sweeper.
 * A tick that comes while a run is in progress is not skipped: one more run starts as soon as the
 * current one ends (skipping added up to an interval to the sweep lag when sweeps were slow), and
 * any further ticks meanwhile fold into that one (two runs at once would repeat each other's calls
 * on a DynamoDB Local that a rush already saturates). A run that fails is reported and the next
 * tick runs as usual.
 */
export function startRepeatingJob(run: () => Promise<unknown>, intervalMs: number, onError: (error: unknown) => void): RepeatingJob {
  let running: Promise<void> | undefined;
  let tickedMeanwhile = false;
  let stopped = false;
  const tick = () => {
    if (running) {
      tickedMeanwhile = true;
      return;
    }
    running = (async () => {
      do {
        tickedMeanwhile = false;
        await run().catch(onError);
      } while (tickedMeanwhile && !stopped);
      running = undefined;
    })();
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
