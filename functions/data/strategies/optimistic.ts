import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SoldOut } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import { isConditionalCheckFailed } from '../dynamodb-errors';
import { fromInventoryItem, inventoryKey, type InventoryShard } from '../items/inventory-item';
import { holdInSteps } from './stepwise-hold';
import type { StrategyDeps } from './strategy-deps';

/**
 * `optimistic`: version-attribute optimistic locking on one inventory item. Read the item
 * (strongly consistent), compute the new count in code, and write it only if `version` is
 * still the one we read. A changed version means another buyer won the race: back off
 * (capped exponential, full jitter) and try again, a bounded number of times; then 503.
 * The read is also the sold-out check, so a sold-out event costs a read, never a write.
 */
export class OptimisticStrategy implements ReservationStrategy {
  readonly name = 'optimistic' as const;

  constructor(private readonly deps: StrategyDeps) {}

  async hold(event: TicketEvent, request: HoldRequest): Promise<HoldOutcome> {
    const first = await this.readAvailable(event, request.quantity);
    return holdInSteps(this.deps, event, request, { shard: 0, quantity: request.quantity }, () =>
      this.takeWithVersionCheck(event, request.quantity, first),
    );
  }

  private async takeWithVersionCheck(event: TicketEvent, quantity: number, firstRead: InventoryShard): Promise<void> {
    const { deps } = this;
    let seen = firstRead;
    for (let attempt = 1; ; attempt++) {
      try {
        await deps.retrier.run(() =>
          deps.db.send(
            new UpdateCommand({
              TableName: deps.tableName,
              Key: inventoryKey(event.eventId, 0),
              UpdateExpression: 'SET #available = :available, #version = :next',
              ConditionExpression: '#version = :seen',
              ExpressionAttributeNames: { '#available': 'available', '#version': 'version' },
              ExpressionAttributeValues: { ':available': seen.available - quantity, ':next': seen.version + 1, ':seen': seen.version },
            }),
          ),
        );
        return;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
      deps.telemetry.count('Conflict', this.name);
      if (attempt >= deps.retrier.policy.maxAttempts) throw deps.retrier.exhausted('conflict', attempt);
      deps.telemetry.count('Retry', this.name);
      await deps.retrier.pause(attempt);
      // Read after the pause: whatever the failed write could have told us is stale by now.
      seen = await this.readAvailable(event, quantity);
    }
  }

  /** The current count and version; sold out if fewer than `quantity` remain. */
  private async readAvailable(event: TicketEvent, quantity: number): Promise<InventoryShard> {
    const { deps } = this;
    const { Item } = await deps.retrier.run(() =>
      deps.db.send(new GetCommand({ TableName: deps.tableName, Key: inventoryKey(event.eventId, 0), ConsistentRead: true })),
    );
    if (!Item) throw new Error(`Inventory of event ${event.eventId} is missing`);
    const shard = fromInventoryItem(Item);
    if (shard.available < quantity) {
      deps.telemetry.count('SoldOutWithoutWrite', this.name);
      throw new SoldOut(quantity, shard.available);
    }
    return shard;
  }
}
