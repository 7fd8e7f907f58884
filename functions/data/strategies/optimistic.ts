import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SoldOut } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import { isConditionalCheckFailed } from '../dynamodb-errors';
import { fromInventoryItem, inventoryKey } from '../items/inventory-item';
import { recordHoldAfterTake } from './record-hold';
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
    const { deps } = this;
    const { maxAttempts } = deps.retrier.policy;
    const key = inventoryKey(event.eventId, 0);
    for (let attempt = 1; ; attempt++) {
      const { Item } = await deps.retrier.run(() =>
        deps.db.send(new GetCommand({ TableName: deps.tableName, Key: key, ConsistentRead: true })),
      );
      if (!Item) throw new Error(`Inventory of event ${event.eventId} is missing`);
      const seen = fromInventoryItem(Item);
      if (seen.available < request.quantity) {
        deps.telemetry.count('SoldOutWithoutWrite', this.name);
        throw new SoldOut(request.quantity, seen.available);
      }
      try {
        await deps.retrier.run(() =>
          deps.db.send(
            new UpdateCommand({
              TableName: deps.tableName,
              Key: key,
              UpdateExpression: 'SET #available = :available, #version = :next',
              ConditionExpression: '#version = :seen',
              ExpressionAttributeNames: { '#available': 'available', '#version': 'version' },
              ExpressionAttributeValues: {
                ':available': seen.available - request.quantity,
                ':next': seen.version + 1,
                ':seen': seen.version,
              },
            }),
          ),
        );
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        deps.telemetry.count('Conflict', this.name);
        if (attempt >= maxAttempts) throw deps.retrier.exhausted('conflict', attempt);
        deps.telemetry.count('Retry', this.name);
        await deps.retrier.pause(attempt);
        continue;
      }
      return recordHoldAfterTake(deps, event, request, { shard: 0, quantity: request.quantity });
    }
  }
}
