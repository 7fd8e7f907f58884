import { BuyerLimitExceeded } from '../../domain/errors';
import type { HoldOutcome, HoldRequest, ShardTake, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import { planTakes, type InventoryView } from '../inventory/inventory-view';
import { attemptHoldTransaction, maxShardsPerHold } from './hold-transaction';
import { refuseIfSoldOut, type StrategyDeps } from './strategy-deps';

/** After this many writes that found their shard short, re-read all shards before guessing again. */
const missesBeforeReread = 2;
const maxMisses = 12;
/** Reads to wait through while only our own in-flight holds' tickets are left. */
const maxWaitsForClaims = 3;

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
      // The view counts the takes as claimed from here on; every outcome settles the claim.
      const claimed = view.claimShard(request.quantity, deps.random);
      const takes = claimed ? [claimed] : await this.planFromRead(event, view, request.quantity);
      const verdict = await attemptHoldTransaction(deps, event, request, takes);
      if (verdict.kind !== 'held' && verdict.kind !== 'short') view.giveBack(takes);
      switch (verdict.kind) {
        case 'held':
          view.taken(takes);
          return { kind: 'created', reservation: verdict.reservation };
        case 'existing':
          return { kind: 'existing', reservation: verdict.reservation };
        case 'buyerLimit':
          throw new BuyerLimitExceeded(event.maxPerBuyer, verdict.alreadyHeld);
        case 'short': {
          // Another buyer emptied a shard first: learn it and try elsewhere, no backoff needed.
          const short = new Set(verdict.shortfalls.map(({ take }) => take.shard));
          view.giveBack(takes.filter((take) => !short.has(take.shard)));
          for (const { take, available } of verdict.shortfalls) view.short(take, available);
          deps.telemetry.count('ShardMiss', this.name);
          if (++misses >= maxMisses) throw deps.retrier.exhausted('conflict', misses + conflicts);
          if (misses % missesBeforeReread === 0) view.forget();
          break;
        }
        case 'retry':
          if (++conflicts >= deps.retrier.policy.maxAttempts) throw deps.retrier.exhausted(verdict.reason, misses + conflicts);
          deps.telemetry.count('Conflict', this.name);
          deps.telemetry.count('Retry', this.name);
          await deps.retrier.pause(conflicts);
      }
    }
  }

  /**
   * Plan from a fresh read. When what is left is only what our own holds in flight have
   * claimed, writing would almost surely miss: wait for them to settle (they take the tickets,
   * or give them back) and read again, a few times, before trying anyway.
   */
  private async planFromRead(event: TicketEvent, view: InventoryView, quantity: number): Promise<ShardTake[]> {
    const maxShards = maxShardsPerHold(this.deps);
    for (let wait = 1; ; wait++) {
      const available = await refuseIfSoldOut(this.deps, this.name, event, view, quantity);
      const unclaimed = planTakes(view.estimates() ?? available, quantity, this.deps.random, maxShards);
      const takes = unclaimed ?? (wait > maxWaitsForClaims ? planTakes(available, quantity, this.deps.random, maxShards) : undefined);
      if (takes) {
        view.claim(takes);
        return takes;
      }
      if (wait > maxWaitsForClaims) {
        // Enough tickets, but scattered over more shards than one transaction can take from.
        throw this.deps.retrier.exhausted('conflict', wait);
      }
      await this.deps.retrier.pause(wait);
    }
  }
}
