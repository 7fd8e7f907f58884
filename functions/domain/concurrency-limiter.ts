import { ThroughputExceeded } from './errors';

/**
 * At most `maxInFlight` tasks at a time; up to `maxQueued` more wait in FIFO order, and past
 * that the caller is told to come back later (503 + Retry-After) instead of waiting without
 * bound. Used twice: around each API request (so a local server flooded by thousands of
 * buyers decides each one with fresh knowledge instead of all at once on a stale view), and
 * around each DynamoDB call (so calls never queue inside the HTTP agent, where the SDK's
 * connection timeout would count the wait and fail calls it never sent).
 * On Lambda, one request per execution environment, neither ever engages.
 */
export class ConcurrencyLimiter {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly maxInFlight: number,
    private readonly maxQueued: number = Number.POSITIVE_INFINITY,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
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
    if (this.waiting.length >= this.maxQueued) throw new ThroughputExceeded(1);
    // release() hands its slot straight to the next waiter, so inFlight stays accurate.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }
}
