import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SoldOut } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import { conditionFailureItem, isConditionalCheckFailed } from '../dynamodb-errors';
import { takeFromShard } from '../items/inventory-item';
import { holdInSteps } from './stepwise-hold';
import { refuseIfSoldOut, type StrategyDeps } from './strategy-deps';

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
    const take = { shard: 0, quantity: request.quantity };
    // Write only when we believe the tickets are there; otherwise a read decides.
    if (!view.mightServe(request.quantity)) await refuseIfSoldOut(deps, this.name, event, view, request.quantity);

    return holdInSteps(deps, event, request, take, async () => {
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
        view.recordExact(0, Number(Attributes?.available));
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        const returned = conditionFailureItem(error)?.available;
        const available = returned === undefined ? undefined : Number(returned);
        view.short(take, available);
        throw new SoldOut(request.quantity, available);
      }
    });
  }
}
