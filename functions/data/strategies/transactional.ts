import { BuyerLimitExceeded, SoldOut } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import { attemptHoldTransaction } from './hold-transaction';
import { refuseIfSoldOut, type StrategyDeps } from './strategy-deps';

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

  async hold(event: TicketEvent, request: HoldRequest): Promise<HoldOutcome> {
    const { deps } = this;
    const view = deps.views.of(event);
    const take = { shard: 0, quantity: request.quantity };
    for (let attempt = 1; ; attempt++) {
      // Write only when we believe the tickets are there; otherwise a read decides.
      if (!view.mightServe(request.quantity)) await refuseIfSoldOut(deps, this.name, event, view, request.quantity);
      const verdict = await attemptHoldTransaction(deps, event, request, [take]);
      switch (verdict.kind) {
        case 'held':
          view.taken([take]);
          return { kind: 'created', reservation: verdict.reservation };
        case 'existing':
          return { kind: 'existing', reservation: verdict.reservation };
        case 'buyerLimit':
          throw new BuyerLimitExceeded(event.maxPerBuyer, verdict.alreadyHeld);
        case 'short': {
          // The condition failed on the only inventory item: that is proof of sold-out.
          const available = verdict.shortfalls[0]?.available;
          view.short(take, available);
          throw new SoldOut(request.quantity, available);
        }
        case 'retry':
          if (attempt >= deps.retrier.policy.maxAttempts) throw deps.retrier.exhausted(verdict.reason, attempt);
          deps.telemetry.count('Conflict', this.name);
          deps.telemetry.count('Retry', this.name);
          await deps.retrier.pause(attempt);
      }
    }
  }
}
