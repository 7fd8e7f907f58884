import { BuyerLimitExceeded, SoldOut } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import { attemptHoldTransaction } from './hold-transaction';
import type { StrategyDeps } from './strategy-deps';
import { claimTickets } from './ticket-claims';

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
    for (let attempt = 1; ; attempt++) {
      // Write only for tickets we believe are there and no hold of ours is already writing for.
      const claim = await claimTickets(deps, this.name, event, view, request, 1);
      try {
        const verdict = await attemptHoldTransaction(deps, event, request, claim.takes);
        switch (verdict.kind) {
          case 'held':
            claim.taken();
            return { kind: 'created', reservation: verdict.reservation };
          case 'existing':
            return { kind: 'existing', reservation: verdict.reservation };
          case 'buyerLimit':
            throw new BuyerLimitExceeded(event.maxPerBuyer, verdict.alreadyHeld);
          case 'short':
            // The condition failed on the only inventory item: that is proof of sold-out.
            claim.short(verdict.shortfalls);
            throw new SoldOut(request.quantity, verdict.shortfalls[0]?.available);
          case 'retry':
            claim.giveBack();
            if (attempt >= deps.retrier.policy.maxAttempts) throw deps.retrier.exhausted(verdict.reason, attempt);
            deps.telemetry.count('Conflict', this.name);
            await deps.retrier.pauseWithin(request.deadline, attempt, verdict.reason, attempt);
            deps.telemetry.count('Retry', this.name);
        }
      } finally {
        claim.giveBack();
      }
    }
  }
}
