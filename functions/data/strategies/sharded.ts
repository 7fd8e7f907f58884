import type { HoldOutcome, HoldRequest, TicketEvent } from '../../domain/model';
import type { ReservationStrategy } from '../../domain/ports';
import { holdByTransaction, maxShardsPerHold } from './hold-transaction';
import type { StrategyDeps } from './strategy-deps';

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

  hold(event: TicketEvent, request: HoldRequest): Promise<HoldOutcome> {
    const { deps } = this;
    return holdByTransaction(deps, this.name, event, request, {
      maxShards: maxShardsPerHold(deps),
      // Another buyer (another process) emptied a shard first: learn it and try elsewhere.
      onShort: (_verdict, misses) => {
        deps.telemetry.count('ShardMiss', this.name);
        if (misses >= maxMisses) throw deps.retrier.exhausted('conflict', misses);
        if (misses % missesBeforeReread === 0) deps.views.of(event).forget();
      },
    });
  }
}
