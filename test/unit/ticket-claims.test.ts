import { describe, expect, it } from 'vitest';
import { InventorySnapshots } from '../../functions/data/inventory/inventory-snapshots';
import { InventoryViews } from '../../functions/data/inventory/inventory-view';
import { Retrier } from '../../functions/data/retrier';
import type { StrategyDeps } from '../../functions/data/strategies/strategy-deps';
import { claimTickets, TicketClaim } from '../../functions/data/strategies/ticket-claims';
import { SoldOut } from '../../functions/domain/errors';
import type { HoldRequest, TicketEvent } from '../../functions/domain/model';
import { InMemoryTelemetry } from '../../functions/observability/telemetry';

const event: TicketEvent = {
  eventId: 'evt_c',
  name: 'n',
  capacity: 1,
  strategy: 'transactional',
  shards: 1,
  holdSeconds: 60,
  maxPerBuyer: 10,
  createdAt: 0,
};
const hold = (deadline: number): HoldRequest => ({
  reservationId: 'res_c',
  buyerId: 'b',
  quantity: 1,
  requestFingerprint: 'f',
  repairAt: Number.POSITIVE_INFINITY,
  createdAt: 0,
  expiresAt: 60_000,
  deadline,
});

/** Deps whose shard reads return `stock()` and whose clock reads `now()`; nothing here writes. */
function deps(stock: () => number, now: () => number) {
  let reads = 0;
  const value = {
    retrier: new Retrier(
      { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 60_000 },
      async () => undefined,
      () => 0,
      now,
    ),
    random: () => 0,
    telemetry: new InMemoryTelemetry(),
    views: new InventoryViews(),
    soldOutStalenessMs: 0,
    snapshots: new InventorySnapshots(async () => {
      reads++;
      return [stock()];
    }),
  } as unknown as StrategyDeps;
  return { deps: value, reads: () => reads };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('claimTickets', () => {
  it('waits for a hold of ours already writing for the last ticket, and is refused by the next read without writing', async () => {
    let stock = 1;
    const { deps: d, reads } = deps(
      () => stock,
      () => 0,
    );
    const view = d.views.of(event);
    const first = await claimTickets(d, 'transactional', event, view, hold(10_000), 1);

    const second = claimTickets(d, 'transactional', event, view, hold(10_000), 1);
    await flush();
    expect(reads()).toBe(2); // the second read saw 1 ticket, claimed by `first`: it waits
    stock = 0;
    first.taken();

    await expect(second).rejects.toBeInstanceOf(SoldOut);
    expect(reads()).toBe(3);
  });

  it('claims the ticket as soon as the hold that had it gives it back', async () => {
    const { deps: d } = deps(
      () => 1,
      () => 0,
    );
    const view = d.views.of(event);
    const first = await claimTickets(d, 'transactional', event, view, hold(10_000), 1);
    const second = claimTickets(d, 'transactional', event, view, hold(10_000), 1);
    await flush();
    first.giveBack(); // e.g. that buyer was over their limit

    const claim = await second;
    expect(claim).toBeInstanceOf(TicketClaim);
    expect(claim.takes).toEqual([{ shard: 0, quantity: 1 }]);
  });

  it('past its deadline stops waiting and claims what the read showed: the write decides, nobody is refused on a guess', async () => {
    const { deps: d, reads } = deps(
      () => 1,
      () => 20_000,
    );
    const view = d.views.of(event);
    await claimTickets(d, 'transactional', event, view, hold(10_000), 1); // still in flight

    const late = await claimTickets(d, 'transactional', event, view, hold(10_000), 1);

    expect(late.takes).toEqual([{ shard: 0, quantity: 1 }]);
    expect(reads()).toBe(2);
  });
});
