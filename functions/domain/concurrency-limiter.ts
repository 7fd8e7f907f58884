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
 * Which line a task waits in. `finishing` work (a buyer confirming or releasing a hold they already
 * have) goes ahead of `starting` work (a new hold, a page read): under overload, a server that
 * sheds both alike lets holds expire while their buyers retry to pay, and their tickets go round
 * again. "Prioritize" in the same Builders' Library article; on AWS each route has its own
 * function and its own throttle, so one route's flood cannot delay another's.
 */
export type Lane = 'finishing' | 'starting';

/**
 * At most `maxInFlight` tasks at a time; more wait in FIFO order per lane, the `finishing` lane
 * served first (see Lane), up to `maxQueued` ahead of a newcomer (a starting task counts every
 * waiter, a finishing one only finishing waiters). Past that,
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
 * Used around each API request (so a local server flooded by thousands of
 * buyers decides each one with fresh knowledge instead of all at once on a stale view),
 * around each DynamoDB call (so calls never queue inside the HTTP agent, where the SDK's
 * connection timeout would count the wait and fail calls it never sent); on Lambda, one request
 * per execution environment, neither ever engages. And by the sweeper, to bound its index
 * queries and its settles, each a slot taken again as soon as it frees.
 */
export class ConcurrencyLimiter {
  private inFlight = 0;
  private readonly waiting: Record<Lane, Waiter[]> = { finishing: [], starting: [] };
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

  async run<T>(task: () => Promise<T>, lane: Lane = 'starting'): Promise<T> {
    await this.acquire(lane);
    try {
      return await task();
    } finally {
      this.learnPlaceTime();
      this.release();
    }
  }

  get queued(): number {
    return this.waiting.finishing.length + this.waiting.starting.length;
  }

  private async acquire(lane: Lane): Promise<void> {
    if (this.inFlight < this.maxInFlight) {
      this.inFlight++;
      return;
    }
    // A finishing task waits only behind other finishing ones; a starting one behind everyone.
    const ahead = lane === 'finishing' ? this.waiting.finishing.length : this.queued;
    if (ahead >= this.maxQueued || this.predictedWaitMs(ahead + 1) > earlyShedMargin * this.maxWaitMs) {
      throw new ThroughputExceeded(this.retryAfterSeconds());
    }
    // release() hands its slot straight to the next waiter, so inFlight stays accurate.
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { since: this.now(), resolve, reject };
      // Shed on a timer too, not only when a slot frees: when every task in flight is slow,
      // no slot frees for a long time and the queue would otherwise wait without bound.
      if (Number.isFinite(this.maxWaitMs)) {
        waiter.timer = setTimeout(() => this.shed(lane, waiter), this.maxWaitMs);
        waiter.timer.unref?.();
      }
      this.waiting[lane].push(waiter);
    });
  }

  /** The wait of the `position`-th in line if the queue keeps moving as fast as lately. */
  private predictedWaitMs(position: number): number {
    return this.placeMs === undefined ? 0 : position * this.placeMs;
  }

  /** A slot is about to free: how fast the queue moves is learned only while there is one. */
  private learnPlaceTime(): void {
    if (this.queued === 0) {
      this.lastFreedWhileQueued = undefined;
      return;
    }
    const now = this.now();
    if (this.lastFreedWhileQueued !== undefined) {
      // Capped at the wait limit: past it every waiter was shed anyway, and a longer sample (one
      // stall) would predict even the first in line past the limit, so no queue would ever form
      // again to learn that the stall is over.
      const interval = Math.min(now - this.lastFreedWhileQueued, this.maxWaitMs);
      this.placeMs = this.placeMs === undefined ? interval : this.placeMs + placeTimeSmoothing * (interval - this.placeMs);
    }
    this.lastFreedWhileQueued = now;
  }

  private shed(lane: Lane, waiter: Waiter): void {
    const index = this.waiting[lane].indexOf(waiter);
    if (index === -1) return;
    this.waiting[lane].splice(index, 1);
    waiter.reject(new ThroughputExceeded(this.retryAfterSeconds()));
  }

  private release(): void {
    for (;;) {
      const next = this.waiting.finishing.shift() ?? this.waiting.starting.shift();
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
