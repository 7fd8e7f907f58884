import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SoldOut } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import { conditionFailureItem, isConditionalCheckFailed } from '../dynamodb-errors';
import { takeFromShard } from '../items/inventory-item';
import { holdInSteps } from './stepwise-hold';
import type { StrategyDeps } from './strategy-deps';
import { claimTickets } from './ticket-claims';

/**
 * `conditional`: one inventory item; take the tickets with a single UpdateItem whose
 * condition `available >= :qty` DynamoDB checks atomically with the write. No read, no
 * retry loop: a failed condition is the sold-out answer. The reservation and the buyer
 * tally are their own conditional writes around it (see stepwise-hold.ts).
 */
export class ConditionalStrategy implements ReservationStrategy {
  readonly name = 'conditional' as const;

  constructor(private readonly deps: StrategyDeps) {}

  async hold(event: TicketEvent, request: HoldRequest): Promise<HoldOutcome> {
    const { deps } = this;
    const view = deps.views.of(event);
    // Start the steps only for tickets we believe are there and no hold of ours is already taking.
    const claim = await claimTickets(deps, this.name, event, view, request, 1);
    const take = claim.takes[0]!;
    try {
      return await holdInSteps(deps, event, request, take, async () => {
        try {
          const { Attributes } = await deps.retrier.run(
            () =>
              deps.db.send(
                new UpdateCommand({
                  ...takeFromShard(deps.tableName, event.eventId, take),
                  ReturnValues: 'UPDATED_NEW',
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                }),
              ),
            () => deps.telemetry.count('Retry', this.name),
          );
          claim.taken();
          view.recordExact(0, Number(Attributes?.available));
        } catch (error) {
          if (!isConditionalCheckFailed(error)) throw error;
          const returned = conditionFailureItem(error)?.available;
          const available = returned === undefined ? undefined : Number(returned);
          claim.short([{ take, available }]);
          throw new SoldOut(request.quantity, available);
        }
      });
    } finally {
      claim.giveBack();
    }
  }
}
