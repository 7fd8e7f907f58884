/**
 * The one definition of Stampede's DynamoDB table. The CDK stack and the local setup
 * (DynamoDB Local for `npm start` and the tests) both build their table from this, so the
 * two can never drift apart.
 *
 * Single-table design with generic keys: every item type (event, inventory shard,
 * reservation, buyer tally) builds its own `pk`/`sk` in functions/data/items/.
 */
export const tableSchema = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  /** Epoch seconds. Only finished reservations get it; TTL is cleanup, never the hold timer. */
  timeToLiveAttribute: 'ttl',
  billingMode: 'PAY_PER_REQUEST',
} as const;

/** CreateTable input for DynamoDB Local, derived from the schema above. */
export function createTableInput(tableName: string) {
  const { partitionKey, sortKey } = tableSchema;
  return {
    TableName: tableName,
    BillingMode: tableSchema.billingMode,
    AttributeDefinitions: [
      { AttributeName: partitionKey.name, AttributeType: partitionKey.type },
      { AttributeName: sortKey.name, AttributeType: sortKey.type },
    ],
    KeySchema: [
      { AttributeName: partitionKey.name, KeyType: 'HASH' as const },
      { AttributeName: sortKey.name, KeyType: 'RANGE' as const },
    ],
  };
}
