import { randomUUID } from 'node:crypto';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { SoldOut } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import type { InventoryView } from '../inventory/inventory-view';
import { fromInventoryItem, type InventoryShard, inventoryKey } from '../items/inventory-item';
import { consistentGet } from '../reads';
import { type HeldMarker, holdInSteps, interruptedIfRepaired, inventoryRefused } from './stepwise-hold';
import type { StrategyDeps } from './strategy-deps';
import { claimTickets, type TicketClaim } from './ticket-claims';

/**
 * `optimistic`: version-attribute optimistic locking on one inventory item. Read the item
 * (strongly consistent), compute the new count in code, and write it only if `version` is
 * still the one we read (in one transaction with the reservation's step to HELD: stepwise-hold.ts). A changed version means another buyer won the race: back off
 * (capped exponential, full jitter) and try again, a bounded number of times; then 503.
 * The read is also the sold-out check, so a sold-out event costs a read, never a write.
 */
export class OptimisticStrategy implements ReservationStrategy {
  readonly name = 'optimistic' as const;

  constructor(private readonly deps: StrategyDeps) {}

  async hold(event: TicketEvent, request: HoldRequest): Promise<HoldOutcome> {
    const view = this.deps.views.of(event);
    // Holds of this process do not race each other for the last tickets (see ticket-claims.ts);
    // they still race every other writer, which is what the version check is for.
    const claim = await claimTickets(this.deps, this.name, event, view, request, 1);
    try {
      const first = await this.readAvailable(event, view, request.quantity);
      return await holdInSteps(this.deps, event, request, claim.takes[0]!, (held) => this.takeWithVersionCheck(event, view, claim, request, first, held));
    } finally {
      claim.giveBack();
    }
  }

  private async takeWithVersionCheck(
    event: TicketEvent,
    view: InventoryView,
    claim: TicketClaim,
    { quantity, deadline }: HoldRequest,
    firstRead: InventoryShard,
    held: HeldMarker,
  ): Promise<void> {
    const { deps } = this;
    let seen = firstRead;
    for (let attempt = 1; ; attempt++) {
      try {
        await deps.retrier.run(() =>
          deps.db.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Update: {
                    TableName: deps.tableName,
                    Key: inventoryKey(event.eventId, 0),
                    UpdateExpression: 'SET #available = :available, #version = :next',
                    ConditionExpression: '#version = :seen',
                    ExpressionAttributeNames: { '#available': 'available', '#version': 'version' },
                    ExpressionAttributeValues: { ':available': seen.available - quantity, ':next': seen.version + 1, ':seen': seen.version },
                  },
                },
                { Update: held },
              ],
              ClientRequestToken: randomUUID(),
            }),
          ),
        );
        claim.taken();
        return;
      } catch (error) {
        if (!inventoryRefused(error)) throw interruptedIfRepaired(error);
      }
      deps.telemetry.count('Conflict', this.name);
      if (attempt >= deps.retrier.policy.maxAttempts) throw deps.retrier.exhausted('conflict', attempt);
      await deps.retrier.pauseWithin(deadline, attempt, 'conflict', attempt);
      deps.telemetry.count('Retry', this.name);
      // Read after the pause: whatever the failed write could have told us is stale by now.
      seen = await this.readAvailable(event, view, quantity);
    }
  }

  /** The current count and version; sold out if fewer than `quantity` remain. */
  private async readAvailable(event: TicketEvent, view: InventoryView, quantity: number): Promise<InventoryShard> {
    const { deps } = this;
    const mark = view.mark();
    const Item = await consistentGet(deps.db, deps.tableName, inventoryKey(event.eventId, 0), deps.retrier);
    if (!Item) throw new Error(`Inventory of event ${event.eventId} is missing`);
    const shard = fromInventoryItem(Item);
    view.replace([shard.available], mark);
    if (shard.available < quantity) {
      deps.telemetry.count('SoldOutWithoutWrite', this.name);
      throw new SoldOut(quantity, shard.available);
    }
    return shard;
  }
}
