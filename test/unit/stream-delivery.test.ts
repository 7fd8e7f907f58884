import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { deliverInBatches, shardsToRead } from '../../local/stream-poller';

const records = (count: number): DynamoDBRecord[] => Array.from({ length: count }, (_, i) => ({ dynamodb: { SequenceNumber: String(i + 1) } }));
const numbers = (batch: DynamoDBRecord[]) => batch.map((record) => Number(record.dynamodb!.SequenceNumber));

/** Deliver `count` records to a handler that answers each call with `failAt(call, batch)`; returns the batches and what was given up. */
async function deliver(count: number, failAt: (call: number, batch: number[]) => number | undefined, maxRetries = 2) {
  const batches: number[][] = [];
  const givenUp: [string, number][] = [];
  const pauses: number[] = [];
  await deliverInBatches(
    records(count),
    async (batch) => {
      batches.push(numbers(batch));
      const failed = failAt(batches.length, numbers(batch));
      return failed === undefined ? undefined : String(failed);
    },
    {
      batchSize: 3,
      maxRetries,
      stopped: () => false,
      pause: async (retries) => void pauses.push(retries),
      giveUp: (from, count) => void givenUp.push([from, count]),
    },
  );
  return { batches, givenUp, pauses };
}

describe('the local poller delivers stream records as the event source mapping does', () => {
  it('hands every record to the handler once, in order, in batches', async () => {
    const { batches, givenUp } = await deliver(7, () => undefined);
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(givenUp).toEqual([]);
  });

  it('after a partial failure delivers again from the failed record, not the ones before it, with backoff', async () => {
    const { batches, pauses } = await deliver(5, (call) => (call === 1 ? 2 : undefined));
    expect(batches).toEqual([[1, 2, 3], [2, 3, 4], [5]]);
    expect(pauses).toEqual([0]);
  });

  it('gives up only the batch it last delivered, then goes on with the first record that batch did not hold', async () => {
    // The first call fails at record 1; every later call that holds record 3 fails there.
    const { batches, givenUp } = await deliver(8, (call, batch) => (call === 1 ? 1 : batch.includes(3) ? 3 : undefined), 1);
    expect(batches).toEqual([
      [1, 2, 3],
      [1, 2, 3],
      [4, 5, 6],
      [7, 8],
    ]);
    expect(givenUp).toEqual([['3', 1]]);
    // No record is skipped without having reached the handler.
    expect(new Set(batches.flat())).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8]));
  });

  it('gives a batch that always fails up after maxRetries deliveries again, and loses nothing after it', async () => {
    const { batches, givenUp } = await deliver(4, (_call, batch) => (batch.includes(1) ? 1 : undefined), 2);
    expect(batches).toEqual([[1, 2, 3], [1, 2, 3], [1, 2, 3], [4]]);
    expect(givenUp).toEqual([['1', 3]]);
  });
});

describe('the local poller reads shards as the event source mapping does', () => {
  const shard = (ShardId: string, ParentShardId?: string) => ({ ShardId, ...(ParentShardId && { ParentShardId }) });
  const ids = (shards: { ShardId?: string }[]) => shards.map((s) => s.ShardId);

  it('reads a parent to its end before its child, whatever order DescribeStream lists them in', () => {
    const listed = [shard('child', 'parent'), shard('parent')];
    expect(ids(shardsToRead(listed, new Map()))).toEqual(['parent']);
    expect(ids(shardsToRead(listed, new Map([['parent', { closed: false }]])))).toEqual(['parent']);
    expect(ids(shardsToRead(listed, new Map([['parent', { closed: true }]])))).toEqual(['child']);
  });

  it('reads a child whose parent is no longer listed (trimmed), and never a closed shard again', () => {
    const listed = [shard('child', 'trimmed'), shard('done')];
    expect(ids(shardsToRead(listed, new Map([['done', { closed: true }]])))).toEqual(['child']);
  });
});
