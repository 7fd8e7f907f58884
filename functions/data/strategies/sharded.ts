import { BuyerLimitExceeded } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import { attemptHoldTransaction, maxShardsPerHold } from './hold-transaction';
import type { StrategyDeps } from './strategy-deps';
import { claimTickets } from './ticket-claims';

/** After this many writes that found their shard short, re-read all shards before guessing again. */
const missesBeforeReread = 2;
const maxMisses = 12;

/**
 * `sharded` (the default): the capacity is split over S inventory items with distinct
 * partition keys. A hold is the same all-or-nothing transaction as `transactional`, against
 * one randomly chosen shard that (as far as this process knows) can serve it, so S shards
 * take S times the write rate of one item.
 *
 * No false sold-outs: a buyer is refused only when an atomic read of all shards shows
 * fewer tickets than requested. When no single shard can serve the request but the shards
 * together can, one transaction takes from several. Once the event is sold out the view
 * says so and every answer comes from that read: no more writes to the inventory items.
 */
export class ShardedStrategy implements ReservationStrategy {
  readonly name = 'sharded' as const;

  constructor(private readonly deps: StrategyDeps) {}

  async hold(event: TicketEvent, request: HoldRequest): Promise<HoldOutcome> {
    const { deps } = this;
    const view = deps.views.of(event);
    let conflicts = 0;
    let misses = 0;
    for (;;) {
      const claim = await claimTickets(deps, this.name, event, view, request, maxShardsPerHold(deps));
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
            // Another buyer (another process) emptied a shard first: learn it and try elsewhere.
            claim.short(verdict.shortfalls);
            deps.telemetry.count('ShardMiss', this.name);
            if (++misses >= maxMisses) throw deps.retrier.exhausted('conflict', misses + conflicts);
            if (misses % missesBeforeReread === 0) view.forget();
            break;
          case 'retry':
            claim.giveBack();
            if (++conflicts >= deps.retrier.policy.maxAttempts) throw deps.retrier.exhausted(verdict.reason, misses + conflicts);
            deps.telemetry.count('Conflict', this.name);
            await deps.retrier.pauseWithin(request.deadline, conflicts, verdict.reason, misses + conflicts);
            deps.telemetry.count('Retry', this.name);
        }
      } finally {
        claim.giveBack();
      }
    }
  }
}
