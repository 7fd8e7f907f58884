import type { HoldRequest, ShardTake, StrategyName, TicketEvent } from '../../domain/model';
import { type InventoryView, planTakes } from '../inventory/inventory-view';
import { refuseIfSoldOut, type StrategyDeps } from './strategy-deps';

/**
 * Before a hold writes, it claims the tickets it means to take in this process's
 * InventoryView, so concurrent holds in one process never write for the same tickets. When 64
 * requests share a read that shows one ticket left, one of them writes; the other 63 wait for
 * it to settle, look again, and are refused by that fresh read without writing (a failed
 * conditional write still costs WCU on AWS, on the event's hottest partition).
 *
 * Claims only ever delay a hold, never refuse it: a refusal comes only from a read that started
 * after the request arrived (refuseIfSoldOut) or from a failed condition in DynamoDB.
 */

/** Claims of others to wait through before writing anyway (each wait ends when one settles). */
const maxWaitsForClaims = 16;

/** Tickets claimed for one write, settled exactly once however the hold ends. */
export class TicketClaim {
  private open = true;

  constructor(
    private readonly view: InventoryView,
    readonly takes: readonly ShardTake[],
  ) {}

  /** The write succeeded: the tickets left the shards. */
  taken(): void {
    if (this.close()) this.view.taken(this.takes);
  }

  /** Some takes found their shard short (`available` exact when DynamoDB said); the rest are given back. */
  short(shortfalls: readonly { take: ShardTake; available?: number }[]): void {
    if (!this.close()) return;
    const short = new Set(shortfalls.map(({ take }) => take.shard));
    this.view.giveBack(this.takes.filter((take) => !short.has(take.shard)));
    for (const { take, available } of shortfalls) this.view.short(take, available);
  }

  /** The write did not happen, or we do not know: safe to call after any of the above (then a no-op). */
  giveBack(): void {
    if (this.close()) this.view.giveBack(this.takes);
  }

  private close(): boolean {
    const wasOpen = this.open;
    this.open = false;
    return wasOpen;
  }
}

/**
 * Claim the request's tickets over at most `maxShards` shards: from what this process
 * believes is unclaimed, else from a fresh read. When the read shows tickets but our own
 * holds in flight have claimed them all, wait until one of those settles and read again;
 * past a number of waits or the hold's deadline, claim what the read showed and let the
 * write decide. Throws SoldOut (from the read) when fewer than `quantity` remain.
 */
export async function claimTickets(
  deps: StrategyDeps,
  strategy: StrategyName,
  event: TicketEvent,
  view: InventoryView,
  { quantity, deadline }: HoldRequest,
  maxShards: number,
): Promise<TicketClaim> {
  const claimed = view.claimShard(quantity, deps.random);
  if (claimed) return new TicketClaim(view, [claimed]);
  for (let wait = 1; ; wait++) {
    const available = await refuseIfSoldOut(deps, strategy, event, view, quantity);
    const timeLeft = deadline - deps.retrier.now();
    const mayWait = view.hasClaims && wait <= maxWaitsForClaims && timeLeft > 0;
    const takes =
      planTakes(view.estimates() ?? available, quantity, deps.random, maxShards) ??
      (mayWait ? undefined : planTakes(available, quantity, deps.random, maxShards));
    if (takes) {
      view.claim(takes);
      return new TicketClaim(view, takes);
    }
    // Enough tickets in all, but scattered over more shards than one transaction can take from.
    if (!mayWait) throw deps.retrier.exhausted('conflict', wait);
    // Bounded: a claim whose write hangs is settled by the SDK's timeout; this is a backstop.
    await view.nextSettlement(Math.min(deps.retrier.policy.maxDelayMs, timeLeft));
  }
}
