import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Retrier } from './retrier';

type Key = Record<string, unknown>;

/** BatchGetItem takes at most 100 keys per call. */
export const maxBatchGetKeys = 100;

/** One item, strongly consistent (it may have been written a moment ago by another process), retried on throttling. */
export async function consistentGet(db: DynamoDBDocumentClient, tableName: string, key: Key, retrier: Retrier): Promise<Record<string, unknown> | undefined> {
  const { Item } = await retrier.run(() => db.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true })));
  return Item;
}

/**
 * Up to 100 items by key, strongly consistent. BatchGetItem may leave keys unprocessed when it
 * is throttled; those are asked for again after a backoff, as many rounds as the retry policy
 * allows attempts: a table that stays throttled is a 503 throughput_exceeded, not a loop that
 * runs until the function times out.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
 */
export async function consistentBatchGet(
  db: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Key[],
  retrier: Retrier,
): Promise<Record<string, unknown>[]> {
  if (keys.length > maxBatchGetKeys) throw new Error(`BatchGetItem takes at most ${maxBatchGetKeys} keys, got ${keys.length}`);
  const items: Record<string, unknown>[] = [];
  let pending: Key[] = [...keys];
  for (let round = 1; pending.length > 0; round++) {
    const request = { [tableName]: { Keys: pending, ConsistentRead: true } };
    const { Responses, UnprocessedKeys } = await retrier.run(() => db.send(new BatchGetCommand({ RequestItems: request })));
    items.push(...(Responses?.[tableName] ?? []));
    pending = (UnprocessedKeys?.[tableName]?.Keys ?? []) as Key[];
    if (pending.length === 0) break;
    if (round >= retrier.policy.maxAttempts) throw retrier.exhausted('throttle', round);
    await retrier.pause(round);
  }
  return items;
}
