import { type DynamoDBDocumentClient, TransactGetCommand } from '@aws-sdk/lib-dynamodb';
import { inventoryItemsOf, type TicketEvent } from '../../domain/model';
import { fromInventoryItem, type InventoryShard, inventoryKey } from '../items/inventory-item';
import { consistentGet } from '../reads';
import type { Retrier } from '../retrier';

/**
 * Read every inventory shard of an event, strongly consistent, with TransactGetItems: one
 * snapshot of one instant when they fit in one transaction (up to 100 shards on AWS), so a sum
 * below the request is proof of sold-out; more shards are read in several snapshots. One shard
 * is a plain GetItem (half the read units).
 */
export async function readInventory(
  db: DynamoDBDocumentClient,
  tableName: string,
  event: TicketEvent,
  options: { retrier: Retrier; maxTransactionItems: number },
): Promise<InventoryShard[]> {
  const shards = inventoryItemsOf(event);
  if (shards === 1) {
    const Item = await consistentGet(db, tableName, inventoryKey(event.eventId, 0), options.retrier);
    if (!Item) throw new Error(`Inventory of event ${event.eventId} is missing`);
    return [fromInventoryItem(Item)];
  }
  const shardNumbers = Array.from({ length: shards }, (_, shard) => shard);
  const chunks = chunk(shardNumbers, options.maxTransactionItems);
  const items = (await Promise.all(chunks.map((shards) => transactGet(db, tableName, event.eventId, shards, options.retrier)))).flat();
  if (items.length !== shards) throw new Error(`Inventory of event ${event.eventId} is incomplete`);
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

export function chunk<T>(values: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < values.length; start += size) chunks.push(values.slice(start, start + size));
  return chunks;
}
