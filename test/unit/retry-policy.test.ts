import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { consistentBatchGet } from '../../functions/data/reads';
import { Retrier, retryReason } from '../../functions/data/retrier';
import { Contention, ThroughputExceeded } from '../../functions/domain/errors';
import { backoffDelay, retryAfterSeconds } from '../../functions/domain/retry';
import { sdkError, transactionConflict } from '../support/faults';

const policy = { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 50 };

describe('capped exponential backoff with full jitter', () => {
  it('doubles the ceiling per retry up to the cap', () => {
    const ceilings = [1, 2, 3, 4, 5].map((retry) => backoffDelay(policy, retry, () => 0.999_999));
    expect(ceilings).toEqual([9, 19, 39, 49, 49]);
  });

  it('spreads delays over the whole range [0, ceiling)', () => {
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(20);
  });

  it('tells clients to wait at least a second', () => {
    expect(retryAfterSeconds(policy)).toBe(1);
    expect(retryAfterSeconds({ ...policy, maxDelayMs: 2_500 })).toBe(3);
  });
});

describe('Retrier', () => {
  const sleeps: number[] = [];
  const retrier = new Retrier(
    policy,
    async (ms) => void sleeps.push(ms),
    () => 0.5,
  );

  it('retries conflicts and throttles, then succeeds', async () => {
    sleeps.length = 0;
    const failures = [sdkError('TransactionConflictException'), sdkError('ProvisionedThroughputExceededException'), transactionConflict(3)];
    const reasons: string[] = [];
    const result = await retrier.run(
      async () => {
        const failure = failures.shift();
        if (failure) throw failure;
        return 'done';
      },
      (reason) => reasons.push(reason),
    );
    expect(result).toBe('done');
    expect(reasons).toEqual(['conflict', 'throttle', 'conflict']);
    expect(sleeps).toEqual([5, 10, 20]);
  });

  it('gives up after maxAttempts with the matching 503 error', async () => {
    let calls = 0;
    const conflict = retrier.run(async () => {
      calls++;
      throw sdkError('TransactionConflictException');
    });
    await expect(conflict).rejects.toBeInstanceOf(Contention);
    expect(calls).toBe(4);
    await expect(retrier.run(async () => Promise.reject(sdkError('ThrottlingException')))).rejects.toBeInstanceOf(ThroughputExceeded);
  });

  it('never retries a failed condition or an unknown error', async () => {
    let calls = 0;
    const failed = retrier.run(async () => {
      calls++;
      throw sdkError('ConditionalCheckFailedException');
    });
    await expect(failed).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(calls).toBe(1);
    expect(retryReason(new Error('boom'))).toBeUndefined();
    expect(
      retryReason(sdkError('TransactionCanceledException', { CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'TransactionConflict' }] })),
    ).toBeUndefined();
    expect(retryReason(sdkError('TransactionCanceledException', { CancellationReasons: [{ Code: 'None' }, { Code: 'ThrottlingError' }] }))).toBe('throttle');
  });

  it('never starts a backoff that would end past the deadline: it gives up with the 503 error instead', async () => {
    let now = 1_000;
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      now += ms;
    };
    const timed = new Retrier(
      policy,
      sleep,
      () => 0.5,
      () => now,
    );
    // Retry 2's backoff is 10 ms here: it would end at 1,010, which is already too late.
    await expect(timed.pauseWithin(1_010, 2, 'conflict', 2)).rejects.toMatchObject({ name: 'Contention', retryAfterSeconds: 1 });
    expect(slept).toEqual([]);
  });

  it('sleeps through backoffs that end before the deadline, then gives up', async () => {
    let now = 1_000;
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      now += ms;
    };
    const timed = new Retrier(
      policy,
      sleep,
      () => 0.5,
      () => now,
    );
    await timed.pauseWithin(1_050, 3, 'conflict', 3); // 20 ms
    await timed.pauseWithin(1_050, 4, 'conflict', 4); // 25 ms, ends at 1,045
    await expect(timed.pauseWithin(1_050, 4, 'throttle', 5)).rejects.toBeInstanceOf(ThroughputExceeded);
    await expect(timed.pauseWithin(1_050, 4, 'conflict', 5)).rejects.toBeInstanceOf(Contention);
    expect(slept).toEqual([20, 25]);
  });

  it('gives compensations three times the budget', async () => {
    let calls = 0;
    await expect(
      retrier.runToCompletion(async () => {
        calls++;
        throw sdkError('TransactionConflictException');
      }),
    ).rejects.toBeInstanceOf(Contention);
    expect(calls).toBe(12);
  });
});

describe('a strongly consistent batch read', () => {
  const retrier = new Retrier(
    policy,
    async () => undefined,
    () => 0.5,
  );
  const keys = [{ pk: 'a' }, { pk: 'b' }, { pk: 'c' }];
  /** A client whose BatchGetItem serves `servesPerCall` keys a call and leaves the rest unprocessed (throttled). */
  const throttledDb = (servesPerCall: number) => {
    let calls = 0;
    const db = {
      send: async (command: { input: { RequestItems: Record<string, { Keys: Record<string, string>[] }> } }) => {
        calls++;
        const asked = command.input.RequestItems.t!.Keys;
        return {
          Responses: { t: asked.slice(0, servesPerCall) },
          UnprocessedKeys: asked.length > servesPerCall ? { t: { Keys: asked.slice(servesPerCall) } } : {},
        };
      },
    };
    return { db: db as unknown as DynamoDBDocumentClient, calls: () => calls };
  };

  it('asks again for the keys left unprocessed until it has them all', async () => {
    const { db, calls } = throttledDb(1);
    expect(await consistentBatchGet(db, 't', keys, retrier)).toEqual(keys);
    expect(calls()).toBe(3);
  });

  it('answers 503 throughput_exceeded when keys stay unprocessed past the retry budget, instead of looping', async () => {
    const { db, calls } = throttledDb(0);
    await expect(consistentBatchGet(db, 't', keys, retrier)).rejects.toBeInstanceOf(ThroughputExceeded);
    expect(calls()).toBe(policy.maxAttempts);
  });
});
