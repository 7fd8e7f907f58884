import { sweepIndex } from '../functions/data/sweep-index';

/**
 * The one definition of Stampede's DynamoDB table. The CDK stack and the local setup
 * (DynamoDB Local for `npm start` and the tests) both build their table from this, so the
 * two can never drift apart.
 *
 * Single-table design with generic keys: every item type (event, inventory shard,
 * reservation, buyer tally) builds its own `pk`/`sk` in functions/data/items/. One sparse
 * index, `sweep`, lists the holds the sweeper may have to settle (functions/data/sweep-index.ts).
 */
export const tableSchema = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [sweepIndex],
  /** Epoch seconds. Only finished reservations get it; TTL is cleanup, never the hold timer. */
  timeToLiveAttribute: 'ttl',
  billingMode: 'PAY_PER_REQUEST',
  /** The table's change log, for consumers of its writes (the queued strategy reads its requests from it). */
  streamViewType: 'NEW_IMAGE',
} as const;

/** CreateTable input for DynamoDB Local, derived from the schema above. */
export function createTableInput(tableName: string) {
  const { partitionKey, sortKey, globalSecondaryIndexes } = tableSchema;
  const attributes = new Map<string, string>();
  for (const key of [partitionKey, sortKey, ...globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey])])
    attributes.set(key.name, key.type);
  return {
    TableName: tableName,
    BillingMode: tableSchema.billingMode,
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType: AttributeType as 'S' | 'N' })),
    KeySchema: [
      { AttributeName: partitionKey.name, KeyType: 'HASH' as const },
      { AttributeName: sortKey.name, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: globalSecondaryIndexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey.name, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: index.projection },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: tableSchema.streamViewType },
  };
}
