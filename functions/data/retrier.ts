import { Contention, ThroughputExceeded } from '../domain/errors';
import { backoffDelay, type RetryPolicy, retryAfterSeconds, type Sleep } from '../domain/retry';
import { cancellationReasons, isRetryableReason, isThrottle, isTransactionConflict } from './dynamodb-errors';

export type RetryReason = 'conflict' | 'throttle';

/**
 * Bounded retries with capped exponential backoff and full jitter for DynamoDB calls that
 * lost a race (TransactionConflict) or were throttled after the SDK's own retries.
 * When the attempts run out the caller gets a domain error that maps to 503 + Retry-After.
 */
export class Retrier {
  constructor(
    readonly policy: RetryPolicy,
    private readonly sleep: Sleep,
    private readonly random: () => number,
    /** The app's clock: deadlines are measured on it. */
    readonly now: () => number = Date.now,
  ) {}

  async run<T>(call: () => Promise<T>, onRetry?: (reason: RetryReason) => void): Promise<T> {
    return this.attempt(call, this.policy.maxAttempts, onRetry);
  }

  /**
   * For writes that must not be abandoned half-way (undoing a refused stepwise hold, or its
   * last step): giving up there would leave a half-made hold, so they get three times the budget.
   */
  runToCompletion<T>(call: () => Promise<T>): Promise<T> {
    return this.attempt(call, this.policy.maxAttempts * 3);
  }

  private async attempt<T>(call: () => Promise<T>, maxAttempts: number, onRetry?: (reason: RetryReason) => void): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const reason = retryReason(error);
        if (!reason) throw error;
        if (attempt >= maxAttempts) throw this.exhausted(reason, attempt);
        onRetry?.(reason);
        await this.pause(Math.min(attempt, this.policy.maxAttempts));
      }
    }
  }

  /** Wait before retry number `retry` (1-based). */
  pause(retry: number): Promise<void> {
    return this.sleep(backoffDelay(this.policy, retry, this.random));
  }

  /**
   * Wait before retry number `retry`, unless that wait would end past `deadline`: then give up
   * now (503 + Retry-After) rather than retry for a caller who will have stopped waiting.
   * https://aws.amazon.com/builders-library/timeouts-retries-and-backoff-with-jitter/
   */
  async pauseWithin(deadline: number, retry: number, reason: RetryReason, attempts: number): Promise<void> {
    const delay = backoffDelay(this.policy, retry, this.random);
    if (this.now() + delay >= deadline) throw this.exhausted(reason, attempts);
    await this.sleep(delay);
  }

  exhausted(reason: RetryReason, attempts: number): Contention | ThroughputExceeded {
    const after = retryAfterSeconds(this.policy);
    return reason === 'throttle' ? new ThroughputExceeded(after) : new Contention(after, attempts);
  }
}

/** Why an error is worth retrying, or undefined when it is not. */
export function retryReason(error: unknown): RetryReason | undefined {
  if (isTransactionConflict(error)) return 'conflict';
  if (isThrottle(error)) return 'throttle';
  const reasons = cancellationReasons(error);
  if (reasons && reasons.length > 0 && reasons.every((r) => r.code === 'None' || isRetryableReason(r))) {
    return reasons.some((r) => r.code === 'TransactionConflict') ? 'conflict' : 'throttle';
  }
  return undefined;
}
