import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { localCredentials, localRegion } from '../../functions/config';

/**
 * Every record a table's stream holds on DynamoDB Local, oldest first in each shard (parents
 * before their children): what an event source mapping starting at TRIM_HORIZON reads, for tests
 * that hand those records to a function themselves.
 */
export async function readTableStream(endpoint: string, tableName: string): Promise<StreamRecord[]> {
  const config = { endpoint, region: localRegion, credentials: localCredentials };
  const tables = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient(config);
  try {
    const { Table } = await tables.send(new DescribeTableCommand({ TableName: tableName }));
    const streamArn = Table?.LatestStreamArn;
    if (!streamArn) throw new Error(`Table ${tableName} has no stream.`);
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const shards = StreamDescription?.Shards ?? [];
    const ordered = shards.filter((shard) => !shards.some((parent) => parent.ShardId === shard.ParentShardId));
    for (let i = 0; i < ordered.length; i++) ordered.push(...shards.filter((shard) => shard.ParentShardId === ordered[i]!.ShardId));
    const records: StreamRecord[] = [];
    for (const shard of ordered) {
      let { ShardIterator: iterator } = await streams.send(
        new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      // An open shard always answers a next iterator: the first empty page is the end of what it holds.
      while (iterator) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1_000 }));
        if (!page.Records?.length) break;
        records.push(...page.Records);
        iterator = page.NextShardIterator;
      }
    }
    return records;
  } finally {
    tables.destroy();
    streams.destroy();
  }
}
