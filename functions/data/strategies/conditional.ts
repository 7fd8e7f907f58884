import { randomUUID } from 'node:crypto';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { SoldOut } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import { cancellationReasons } from '../dynamodb-errors';
import { takeFromShard } from '../items/inventory-item';
import { holdInSteps, interruptedIfRepaired, inventoryRefused } from './stepwise-hold';
import type { StrategyDeps } from './strategy-deps';
import { claimTickets } from './ticket-claims';

/**
 * `conditional`: one inventory item; take the tickets with the condition `available >= :qty`,
 * which DynamoDB checks atomically with the write. No read, no retry loop: a failed condition is
 * the sold-out answer. The reservation and the buyer tally are their own steps around it
 * (see stepwise-hold.ts); the take itself goes in one transaction with the reservation's step
 * to HELD, so tickets never leave inventory without the hold that has them.
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
      return await holdInSteps(deps, event, request, take, async (held) => {
        try {
          await deps.retrier.run(
            () =>
              deps.db.send(
                new TransactWriteCommand({
                  TransactItems: [
                    { Update: { ...takeFromShard(deps.tableName, event.eventId, take), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
                    { Update: held },
                  ],
                  ClientRequestToken: randomUUID(),
                }),
              ),
            () => deps.telemetry.count('Retry', this.name),
          );
          claim.taken();
        } catch (error) {
          if (!inventoryRefused(error)) throw interruptedIfRepaired(error);
          const returned = cancellationReasons(error)?.[0]?.item?.available;
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
