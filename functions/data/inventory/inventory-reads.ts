import { BatchGetCommand, GetCommand, TransactGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TicketEvent } from '../../domain/model';
import { fromInventoryItem, inventoryKey, type InventoryShard } from '../items/inventory-item';
import type { Retrier } from '../retrier';

const maxBatchGetKeys = 100;

/**
 * Read every inventory shard of an event, strongly consistent. With `atomic` the shards are
 * read with TransactGetItems: one snapshot of one instant when they fit in one transaction
 * (up to 100 shards on AWS), so a sum below the request is proof of sold-out; more shards
 * are read in several snapshots. Without it, BatchGetItem: cheaper, for display.
 */
export async function readInventory(
  db: DynamoDBDocumentClient,
  tableName: string,
  event: TicketEvent,
  options: { atomic: boolean; retrier: Retrier; maxTransactionItems: number },
): Promise<InventoryShard[]> {
  if (event.shards === 1) {
    const { Item } = await options.retrier.run(() =>
      db.send(new GetCommand({ TableName: tableName, Key: inventoryKey(event.eventId, 0), ConsistentRead: true })),
    );
    if (!Item) throw new Error(`Inventory of event ${event.eventId} is missing`);
    return [fromInventoryItem(Item)];
  }
  const shardNumbers = Array.from({ length: event.shards }, (_, shard) => shard);
  const chunks = chunk(shardNumbers, options.atomic ? options.maxTransactionItems : maxBatchGetKeys);
  const read = options.atomic ? transactGet : batchGet;
  const items = (await Promise.all(chunks.map((shards) => read(db, tableName, event.eventId, shards, options.retrier)))).flat();
  if (items.length !== event.shards) throw new Error(`Inventory of event ${event.eventId} is incomplete`);
  return items.map(fromInventoryItem).sort((a, b) => a.shard - b.shard);
}

async function transactGet(db: DynamoDBDocumentClient, tableName: string, eventId: string, shards: number[], retrier: Retrier) {
  const { Responses } = await retrier.run(() =>
    db.send(
      new TransactGetCommand({
        TransactItems: shards.map((shard) => ({ Get: { TableName: tableName, Key: inventoryKey(eventId, shard) } })),
      }),
    ),
  );
  return (Responses ?? []).flatMap((response) => (response.Item ? [response.Item] : []));
}

async function batchGet(db: DynamoDBDocumentClient, tableName: string, eventId: string, shards: number[], retrier: Retrier) {
  const items: Record<string, unknown>[] = [];
  let keys: Record<string, unknown>[] = shards.map((shard) => inventoryKey(eventId, shard));
  for (let round = 1; keys.length > 0; round++) {
    const request = { [tableName]: { Keys: keys, ConsistentRead: true } };
    const { Responses, UnprocessedKeys } = await retrier.run(() => db.send(new BatchGetCommand({ RequestItems: request })));
    items.push(...(Responses?.[tableName] ?? []));
    keys = (UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
    if (keys.length > 0) await retrier.pause(round);
  }
  return items;
}

export function chunk<T>(values: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < values.length; start += size) chunks.push(values.slice(start, start + size));
  return chunks;
}
