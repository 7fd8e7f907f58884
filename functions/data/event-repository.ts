import { BatchWriteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { TicketEvent } from '../domain/model';
import type { EventRepository } from '../domain/ports';
import { isConditionalCheckFailed } from './dynamodb-errors';
import { chunk } from './inventory/inventory-reads';
import type { InventorySnapshots } from './inventory/inventory-snapshots';
import { eventKey, fromEventItem, toEventItem } from './items/event-item';
import { initialAllocation, toInventoryItem } from './items/inventory-item';
import { consistentGet } from './reads';
import type { Retrier } from './retrier';

const maxBatchWriteItems = 25;

export class DynamoEventRepository implements EventRepository {
  /** Events never change after creation, so a process can keep them: no read per reservation. */
  private readonly cache = new Map<string, TicketEvent>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retrier: Retrier,
    /** The event page's `available` comes from the same bounded-staleness reads as sold-out answers. */
    private readonly snapshots: InventorySnapshots,
    private readonly stalenessMs: number,
    private readonly maxCachedEvents = 1_000,
  ) {}

  /**
   * Inventory first, the event item last: until the event item exists nobody can reserve,
   * so a crash half-way leaves only unreachable inventory items, never a half-stocked event.
   */
  async create(event: TicketEvent): Promise<void> {
    const items = initialAllocation(event).map((allocated, shard) => toInventoryItem(event.eventId, shard, allocated));
    for (const batch of chunk(items, maxBatchWriteItems)) await this.writeAll(batch);
    try {
      await this.retrier.run(() =>
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: toEventItem(event),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    } catch (error) {
      // This put's own item, whose answer was lost and whose retry (the SDK's) then found it:
      // the event exists, so answer with it rather than a 500 for an event that was made.
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await consistentGet(this.db, this.tableName, eventKey(event.eventId), this.retrier);
      if (!existing || JSON.stringify(fromEventItem(existing)) !== JSON.stringify(fromEventItem(toEventItem(event)))) throw error;
    }
    this.remember(event);
  }

  async find(eventId: string): Promise<TicketEvent | undefined> {
    const cached = this.cache.get(eventId);
    if (cached) return cached;
    const Item = await consistentGet(this.db, this.tableName, eventKey(eventId), this.retrier);
    if (!Item) return undefined;
    const event = fromEventItem(Item);
    this.remember(event);
    return event;
  }

  async remaining(event: TicketEvent): Promise<number> {
    const { available } = await this.snapshots.latest(event, this.stalenessMs);
    return available.reduce((sum, count) => sum + count, 0);
  }

  private async writeAll(items: Record<string, unknown>[]): Promise<void> {
    let pending = items.map((Item) => ({ PutRequest: { Item } }));
    for (let round = 1; pending.length > 0; round++) {
      const { UnprocessedItems } = await this.retrier.run(() => this.db.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } })));
      pending = (UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
      if (pending.length > 0) await this.retrier.pause(round);
    }
  }

  private remember(event: TicketEvent): void {
    if (this.cache.size >= this.maxCachedEvents) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(event.eventId, event);
  }
}
