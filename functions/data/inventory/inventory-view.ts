import { inventoryItemsOf, type ShardTake, type TicketEvent } from '../../domain/model';

/**
 * What this process last learned about an event's inventory shards: a hint for choosing
 * where to write, never a reason to refuse a buyer. A buyer is refused only after a
 * strongly consistent read (or a failed condition on the only item) proves the tickets
 * are not there. The hint is what lets a sold-out event answer without writing.
 *
 * Per shard it keeps what was last learned from DynamoDB (`known`) and what this process has
 * claimed for writes still in flight (`pending`); the estimate is the difference. Keeping the
 * two apart means a fresh read does not wipe out the claims of holds still on their way.
 */
export class InventoryView {
  private known: number[] | undefined;
  private readonly pending: number[];
  /** Tickets this process has taken from each shard, ever: see `mark`. */
  private readonly takenTotal: number[];
  /** Holds waiting for a claim of this process to settle (see `nextSettlement`). */
  private waiters: (() => void)[] = [];

  constructor(readonly shards: number) {
    this.pending = new Array<number>(shards).fill(0);
    this.takenTotal = new Array<number>(shards).fill(0);
  }

  /** Take a mark before asking for a read, and hand it to `replace` with the read's result. */
  mark(): readonly number[] {
    return [...this.takenTotal];
  }

  /**
   * Replace what we know with a read of all shards. A read answers slowly under load: holds of
   * ours that completed after `since` (the mark taken before asking) may be missing from it,
   * so they are subtracted. If the read did include them this underestimates, which costs at
   * most an extra read later; overestimating would cost failed writes.
   */
  replace(available: readonly number[], since?: readonly number[]): void {
    this.known = available.map((count, shard) => count - (since ? (this.takenTotal[shard] ?? 0) - (since[shard] ?? 0) : 0));
  }

  /** Forget what we know: the next hold reads before writing. */
  forget(): void {
    this.known = undefined;
  }

  /** Whether holds of this process are still writing for tickets they claimed. */
  get hasClaims(): boolean {
    return this.pending.some((claimed) => claimed > 0);
  }

  /**
   * Resolves when the next claim settles (taken, short or given back), or after `timeoutMs`:
   * the moment a hold that found only claimed tickets should look again, instead of writing
   * for them or polling.
   */
  nextSettlement(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref?.();
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Choose a shard for `quantity`, at random weighted by what each is believed to hold, and
   * claim the tickets at once. Concurrent holds in one process then spread over the shards
   * instead of all aiming at the same nearly empty one. Every claim must be settled with
   * `taken`, `short` or `giveBack`. Undefined if no shard is believed to have enough.
   */
  claimShard(quantity: number, random: () => number): ShardTake | undefined {
    const estimates = this.estimates();
    if (!estimates) return undefined;
    let total = 0;
    for (const available of estimates) if (available >= quantity) total += available;
    if (total === 0) return undefined;
    let draw = random() * total;
    let shard = estimates.findIndex((available) => available >= quantity);
    for (const [index, available] of estimates.entries()) {
      if (available < quantity) continue;
      shard = index;
      if (draw < available) break;
      draw -= available;
    }
    const take = { shard, quantity };
    this.claim([take]);
    return take;
  }

  /** Claim takes planned elsewhere (from a fresh read). */
  claim(takes: readonly ShardTake[]): void {
    for (const take of takes) this.pending[take.shard] = (this.pending[take.shard] ?? 0) + take.quantity;
  }

  /** The claimed tickets were written: they left the shards. */
  taken(takes: readonly ShardTake[]): void {
    this.settle(takes);
    for (const take of takes) {
      this.takenTotal[take.shard] = (this.takenTotal[take.shard] ?? 0) + take.quantity;
      this.setKnown(take.shard, (known) => Math.max(0, known - take.quantity));
    }
  }

  /** The claim's write did not happen (refused for another reason, or to be retried). */
  giveBack(takes: readonly ShardTake[]): void {
    this.settle(takes);
  }

  /** A write found the shard short. `available` is exact when DynamoDB returned the item. */
  short(take: ShardTake, available: number | undefined): void {
    this.settle([take]);
    this.setKnown(take.shard, (known) => (available === undefined ? Math.min(known, take.quantity - 1) : available));
  }

  /** The exact count after a write that returned it. */
  recordExact(shard: number, available: number): void {
    this.setKnown(shard, () => available);
  }

  /** Per shard, what we believe is left for new claims (never negative); undefined while unknown. */
  estimates(): number[] | undefined {
    return this.known?.map((known, shard) => Math.max(0, known - (this.pending[shard] ?? 0)));
  }

  private settle(takes: readonly ShardTake[]): void {
    for (const take of takes) this.pending[take.shard] = Math.max(0, (this.pending[take.shard] ?? 0) - take.quantity);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private setKnown(shard: number, change: (known: number) => number): void {
    if (!this.known || shard >= this.known.length) return;
    this.known[shard] = change(this.known[shard]!);
  }
}

/** One view per event in this process; bounded so a long-lived process does not grow forever. */
export class InventoryViews {
  private readonly views = new Map<string, InventoryView>();

  constructor(private readonly maxEvents = 1_000) {}

  of(event: TicketEvent): InventoryView {
    let view = this.views.get(event.eventId);
    if (!view) {
      if (this.views.size >= this.maxEvents) this.views.delete(this.views.keys().next().value!);
      view = new InventoryView(inventoryItemsOf(event));
      this.views.set(event.eventId, view);
    }
    return view;
  }
}

/**
 * Split `quantity` over the shards that have tickets, from a fresh read: one shard that can
 * serve it alone (chosen as `claimShard` does), else the fullest shards together in one
 * transaction. Returns undefined if that would need more shards than one transaction can hold.
 */
export function planTakes(available: readonly number[], quantity: number, random: () => number, maxShards: number): ShardTake[] | undefined {
  const view = new InventoryView(available.length);
  view.replace(available);
  const single = view.claimShard(quantity, random);
  if (single) return [single];
  const fullestFirst = available
    .map((count, shard) => ({ shard, count }))
    .filter(({ count }) => count > 0)
    .sort((a, b) => b.count - a.count);
  const takes: ShardTake[] = [];
  let missing = quantity;
  for (const { shard, count } of fullestFirst) {
    if (missing === 0) break;
    const take = Math.min(count, missing);
    takes.push({ shard, quantity: take });
    missing -= take;
  }
  if (missing > 0 || takes.length > maxShards) return undefined;
  return takes;
}
