import { ThroughputExceeded } from './errors';

/** Weight of the latest interval in the smoothed time per place (about the last 20 count). */
const placeTimeSmoothing = 0.05;
/**
 * Shed a newcomer at once only when its predicted wait is this many times the limit: the
 * prediction is an average, so near the limit the request waits and the timer decides (at 1×,
 * a rush that the queue was absorbing saw hundreds of needless 503s).
 */
const earlyShedMargin = 2;

/**
 * At most `maxInFlight` tasks at a time; up to `maxQueued` more wait in FIFO order. Past that,
 * or once a task has waited `maxWaitMs` for its turn, the caller is told to come back later
 * (503 + Retry-After) instead of waiting without bound: under overload the answer stays quick,
 * and no work is spent on requests whose clients have most likely given up.
 *
 * A newcomer whose wait would predictably be far past `maxWaitMs` (its place in line × how long one
 * place has lately taken to move up while there was a queue: Little's law, whatever the mix of
 * fast and slow requests) is told so at once, not after waiting `maxWaitMs` for nothing: under
 * sustained overload a queue that only sheds on a timer holds every rejected request (and its
 * connection) for the whole wait. "Reject early" from
 * https://aws.amazon.com/builders-library/using-load-shedding-to-avoid-overload/
 *
 * Used twice: around each API request (so a local server flooded by thousands of
 * buyers decides each one with fresh knowledge instead of all at once on a stale view), and
 * around each DynamoDB call (so calls never queue inside the HTTP agent, where the SDK's
 * connection timeout would count the wait and fail calls it never sent).
 * On Lambda, one request per execution environment, neither ever engages.
 */
export class ConcurrencyLimiter {
  private inFlight = 0;
  private readonly waiting: Waiter[] = [];
  /** While requests waited, the time between two slots freeing, smoothed; unknown until then. */
  private placeMs: number | undefined;
  /** When a slot last freed while requests were waiting (undefined once the queue emptied). */
  private lastFreedWhileQueued: number | undefined;

  constructor(
    private readonly maxInFlight: number,
    private readonly maxQueued: number = Number.POSITIVE_INFINITY,
    private readonly maxWaitMs: number = Number.POSITIVE_INFINITY,
    private readonly now: () => number = Date.now,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.learnPlaceTime();
      this.release();
    }
  }

  get queued(): number {
    return this.waiting.length;
  }

  private async acquire(): Promise<void> {
    if (this.inFlight < this.maxInFlight) {
      this.inFlight++;
      return;
    }
    if (this.waiting.length >= this.maxQueued || this.predictedWaitMs(this.waiting.length + 1) > earlyShedMargin * this.maxWaitMs) {
      throw new ThroughputExceeded(this.retryAfterSeconds());
    }
    // release() hands its slot straight to the next waiter, so inFlight stays accurate.
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { since: this.now(), resolve, reject };
      // Shed on a timer too, not only when a slot frees: when every task in flight is slow,
      // no slot frees for a long time and the queue would otherwise wait without bound.
      if (Number.isFinite(this.maxWaitMs)) {
        waiter.timer = setTimeout(() => this.shed(waiter), this.maxWaitMs);
        waiter.timer.unref?.();
      }
      this.waiting.push(waiter);
    });
  }

  /** The wait of the `position`-th in line if the queue keeps moving as fast as lately. */
  private predictedWaitMs(position: number): number {
    return this.placeMs === undefined ? 0 : position * this.placeMs;
  }

  /** A slot is about to free: how fast the queue moves is learned only while there is one. */
  private learnPlaceTime(): void {
    if (this.waiting.length === 0) {
      this.lastFreedWhileQueued = undefined;
      return;
    }
    const now = this.now();
    if (this.lastFreedWhileQueued !== undefined) {
      const interval = now - this.lastFreedWhileQueued;
      this.placeMs = this.placeMs === undefined ? interval : this.placeMs + placeTimeSmoothing * (interval - this.placeMs);
    }
    this.lastFreedWhileQueued = now;
  }

  private shed(waiter: Waiter): void {
    const index = this.waiting.indexOf(waiter);
    if (index === -1) return;
    this.waiting.splice(index, 1);
    waiter.reject(new ThroughputExceeded(this.retryAfterSeconds()));
  }

  private release(): void {
    for (;;) {
      const next = this.waiting.shift();
      if (!next) {
        this.inFlight--;
        return;
      }
      clearTimeout(next.timer);
      if (this.now() - next.since <= this.maxWaitMs) {
        next.resolve();
        return;
      }
      next.reject(new ThroughputExceeded(this.retryAfterSeconds()));
    }
  }

  /**
   * Come back once the queue we could not join has drained twice over: shed buyers retrying
   * sooner would land in the same overload (a flash sale's selling window lasts a minute or two).
   */
  private retryAfterSeconds(): number {
    return Number.isFinite(this.maxWaitMs) ? Math.max(1, Math.ceil((2 * this.maxWaitMs) / 1000)) : 1;
  }
}

interface Waiter {
  readonly since: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
}
