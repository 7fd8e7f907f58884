import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { localCredentials, localRegion } from '../functions/config';
import type { Log } from '../functions/observability/log';

/** A Lambda event filter pattern: objects match field by field; arrays list what a value may be. */
export type FilterPattern = { readonly [field: string]: FilterPattern } | readonly (string | { readonly prefix: string })[];

export interface StreamPollerOptions {
  readonly endpoint: string;
  readonly tableName: string;
  /** Which records reach the handler: the same pattern the event source mapping filters with on AWS. */
  readonly filter: FilterPattern;
  readonly handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | undefined>;
  readonly log: Log;
  /** Records per invocation. @default 100 */
  readonly batchSize?: number;
  /** Retries of a failing batch before it is skipped, as the event source mapping's maximumRetryAttempts. @default 10 */
  readonly maxRetries?: number;
  /**
   * Pause after a poll that found nothing: it starts at `minIdleMs` and doubles up to `maxIdleMs`
   * while the stream stays quiet (Lambda polls a shard 4 times a second). @default 20 / 250
   */
  readonly minIdleMs?: number;
  readonly maxIdleMs?: number;
}

export interface StreamPoller {
  /** Resolves once everything written to the table before the call has been delivered (or skipped). */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What a Lambda event source mapping does for a DynamoDB stream, for `npm start` and the tests:
 * read each shard from its oldest record (TRIM_HORIZON), in order, keep the records the filter
 * matches, call the handler with a batch, and on a partial failure deliver again from the failed
 * record, with backoff, up to maxRetries before it gives the batch up (logged; on AWS it goes to
 * the mapping's failure destination). One shard at a time, as DynamoDB Local has one. Reading
 * from the oldest record means a restarted stack decides what a killed one left undecided; the
 * handler skips what was decided already.
 */
export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const config = { endpoint: options.endpoint, region: localRegion, credentials: localCredentials };
  const tables = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient(config);
  const { Table } = await tables.send(new DescribeTableCommand({ TableName: options.tableName }));
  tables.destroy();
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`Table ${options.tableName} has no stream`);

  const batchSize = options.batchSize ?? 100;
  const minIdleMs = options.minIdleMs ?? 20;
  const maxIdleMs = options.maxIdleMs ?? 250;
  let idleMs = minIdleMs;
  /** The shards, described again when one closes and every few seconds (DescribeStream is not free). */
  let shards: { list: Shard[]; at: number } | undefined;
  const positions = new Map<string, ShardPosition>();
  let stopped = false;
  let waiters: (() => void)[] = [];

  const deliver = (records: DynamoDBRecord[]) =>
    deliverInBatches(records, (batch) => invoke(options, batch), {
      batchSize,
      maxRetries: options.maxRetries ?? 10,
      stopped: () => stopped,
      pause: (retries) => sleep(Math.min(1_000, 20 * 2 ** retries)),
      giveUp: (from, count) => options.log.error('Stream records given up after retries', { table: options.tableName, from, count }),
    });

  /** One pass over every shard until each has nothing new; true if anything came. */
  const poll = async (): Promise<boolean> => {
    if (!shards || Date.now() - shards.at > describeEveryMs) shards = { list: await describeShards(streams, streamArn), at: Date.now() };
    let anything = false;
    for (const shard of shardsToRead(shards.list, positions)) {
      const shardId = shard.ShardId!;
      let position = positions.get(shardId);
      if (!position) {
        const { ShardIterator } = await streams.send(
          new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
        );
        position = { iterator: ShardIterator, closed: false };
        positions.set(shardId, position);
      }
      while (position.iterator && !stopped) {
        const page = await getRecords(streams, streamArn, shardId, position);
        position.iterator = page.NextShardIterator;
        const records = (page.Records ?? []).map((record) => toLambdaRecord(record, streamArn));
        if (records.length === 0) break;
        anything = true;
        position.lastSequenceNumber = records.at(-1)!.dynamodb!.SequenceNumber;
        await deliver(records.filter((record) => matches(record, options.filter)));
      }
      if (!position.iterator) {
        position.closed = true;
        shards = undefined; // its children are new shards
      }
    }
    return anything;
  };

  const loop = (async () => {
    while (!stopped) {
      const started = waiters;
      waiters = [];
      let anything = false;
      try {
        anything = await poll();
      } catch (error) {
        options.log.error('Stream poll failed', { table: options.tableName, error });
      }
      // A waiter that came during a pass that found records waits for the next quiet pass.
      if (anything) waiters.push(...started);
      else for (const resolve of started) resolve();
      idleMs = anything ? minIdleMs : Math.min(maxIdleMs, idleMs * 2);
      if (!anything && !stopped) await sleep(idleMs);
    }
    for (const resolve of waiters) resolve();
  })();

  return {
    caughtUp: () => new Promise<void>((resolve) => waiters.push(resolve)),
    async stop() {
      stopped = true;
      await loop;
      streams.destroy();
    },
  };
}

const describeEveryMs = 5_000;

/** Every shard of the stream: DescribeStream answers a page at a time. */
async function describeShards(streams: DynamoDBStreamsClient, streamArn: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let exclusiveStartShardId: string | undefined;
  do {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }));
    shards.push(...(StreamDescription?.Shards ?? []));
    exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
  } while (exclusiveStartShardId);
  return shards;
}

/**
 * The shards to read now, parents first: DescribeStream lists shards in no guaranteed order, and a
 * child's records come after its parent's, so a child waits while its parent is listed and not
 * read to its end (as the event source mapping does). A parent no longer listed (trimmed) holds
 * nothing more to wait for.
 */
export function shardsToRead(listed: readonly Shard[], positions: ReadonlyMap<string, { readonly closed: boolean }>): Shard[] {
  const listedIds = new Set(listed.map((shard) => shard.ShardId));
  const finished = (shardId: string | undefined) => shardId === undefined || !listedIds.has(shardId) || positions.get(shardId)?.closed === true;
  return listed.filter((shard) => !finished(shard.ShardId) && finished(shard.ParentShardId));
}

interface Delivery {
  readonly batchSize: number;
  readonly maxRetries: number;
  readonly stopped: () => boolean;
  /** Backoff before delivering a failed batch again. */
  readonly pause: (retries: number) => Promise<void>;
  /** A batch that kept failing is skipped: from its first failed record, `count` records. */
  readonly giveUp: (fromSequenceNumber: string, count: number) => void;
}

/**
 * Hand records to the handler as the event source mapping does: in batches of `batchSize`; after
 * a partial failure, again from the failed record (the ones before it are done); after
 * `maxRetries` the batch last invoked is given up (on AWS it goes to the failure destination) and
 * delivery goes on with the first record that batch did not contain, so no record is skipped
 * without having been delivered.
 */
export async function deliverInBatches(
  records: readonly DynamoDBRecord[],
  invoke: (batch: DynamoDBRecord[]) => Promise<string | undefined>,
  delivery: Delivery,
): Promise<void> {
  const { batchSize, maxRetries } = delivery;
  for (let retries = 0; records.length > 0 && !delivery.stopped(); retries++) {
    const batch = records.slice(0, batchSize);
    const failedAt = await invoke(batch);
    if (failedAt === undefined) {
      records = records.slice(batch.length);
      retries = -1;
      continue;
    }
    const from = Math.max(
      0,
      batch.findIndex((record) => record.dynamodb?.SequenceNumber === failedAt),
    );
    if (retries >= maxRetries) {
      delivery.giveUp(failedAt, batch.length - from);
      records = records.slice(batch.length);
      retries = -1;
    } else {
      records = records.slice(from);
      await delivery.pause(retries);
    }
  }
}

interface ShardPosition {
  iterator?: string;
  lastSequenceNumber?: string;
  closed: boolean;
}

/** GetRecords; an iterator that expired (15 minutes idle on AWS) is renewed after the last record read. */
async function getRecords(streams: DynamoDBStreamsClient, streamArn: string, shardId: string, position: ShardPosition) {
  try {
    return await streams.send(new GetRecordsCommand({ ShardIterator: position.iterator, Limit: 1_000 }));
  } catch (error) {
    if (!(error instanceof ExpiredIteratorException)) throw error;
    const renewed = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ...(position.lastSequenceNumber
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: position.lastSequenceNumber }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return streams.send(new GetRecordsCommand({ ShardIterator: renewed.ShardIterator, Limit: 1_000 }));
  }
}

/** The handler's answer as the event source mapping reads it: the first failed record, if any. */
async function invoke(options: StreamPollerOptions, records: DynamoDBRecord[]): Promise<string | undefined> {
  try {
    const response = await options.handler({ Records: records });
    return response?.batchItemFailures?.[0]?.itemIdentifier;
  } catch (error) {
    options.log.error('Stream handler failed; the batch is delivered again', { table: options.tableName, error });
    return records[0]!.dynamodb!.SequenceNumber;
  }
}

/** A stream record as Lambda receives it. */
function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const change = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(change.ApproximateCreationDateTime && { ApproximateCreationDateTime: change.ApproximateCreationDateTime.getTime() / 1000 }),
      Keys: change.Keys as NonNullable<DynamoDBRecord['dynamodb']>['Keys'],
      NewImage: change.NewImage as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
      OldImage: change.OldImage as NonNullable<DynamoDBRecord['dynamodb']>['OldImage'],
      SequenceNumber: change.SequenceNumber,
      SizeBytes: change.SizeBytes,
      StreamViewType: change.StreamViewType,
    },
  };
}

/** Lambda's event filtering, for the parts of the syntax Stampede uses: exact values and prefixes. */
export function matches(value: unknown, pattern: FilterPattern): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some((allowed: string | { prefix: string }) =>
      typeof allowed === 'string' ? value === allowed : typeof value === 'string' && value.startsWith(allowed.prefix),
    );
  }
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(pattern).every(([field, inner]) => matches((value as Record<string, unknown>)[field], inner));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
