import { SoldOut } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import { holdByTransaction } from './hold-transaction';
import type { StrategyDeps } from './strategy-deps';

/**
 * `transactional`: one inventory item; every hold is a TransactWriteItems over the
 * inventory item, the reservation and the buyer tally, so all three change together or not
 * at all. Simple and fully atomic, but every buyer writes the same item: on AWS one item
 * takes ~500 transactions/s (2 WCU per transactional write, 1,000 WCU/s per partition) and
 * concurrent transactions on it cancel each other (TransactionConflict) and retry.
 */
export class TransactionalStrategy implements ReservationStrategy {
  readonly name = 'transactional' as const;

  constructor(private readonly deps: StrategyDeps) {}

  hold(event: TicketEvent, request: HoldRequest): Promise<HoldOutcome> {
    return holdByTransaction(this.deps, this.name, event, request, {
      maxShards: 1,
      // The condition failed on the only inventory item: that is proof of sold-out.
      onShort: (verdict) => {
        throw new SoldOut(request.quantity, verdict.shortfalls[0]?.available);
      },
    });
  }
}
