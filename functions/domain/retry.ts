/**
 * Capped exponential backoff with full jitter, as recommended for contended writers:
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 * Full jitter spreads retries uniformly so racing buyers do not collide again in lockstep.
 */
export interface RetryPolicy {
  /** Total attempts including the first one. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

// Tuned on the optimistic strategy under a 64-way race (see BENCHMARKS.md): short early delays
// made contenders collide again and again; a 2 s cap lets a crowd spread out.
export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 10, baseDelayMs: 25, maxDelayMs: 2_000 };

export type Sleep = (milliseconds: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Delay before retry number `retry` (1 = the first retry). `random` returns [0, 1). */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

/** Seconds a client should wait before trying again after we gave up: at least one. */
export function retryAfterSeconds(policy: RetryPolicy): number {
  return Math.max(1, Math.ceil(policy.maxDelayMs / 1000));
}
