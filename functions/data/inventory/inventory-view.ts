import type { ShardTake, TicketEvent } from '../../domain/model';

/**
 * What this process last learned about an event's inventory shards: a hint for choosing
 * where to write, never a reason to refuse a buyer. A buyer is refused only after a
 * strongly consistent read (or a failed condition on the only item) proves the tickets
 * are not there. The hint is what lets a sold-out event answer without writing.
 */
export class InventoryView {
  /** Per shard, how many tickets we believe remain; undefined until the first read. */
  private estimates: number[] | undefined;

  constructor(readonly shards: number) {}

  get isKnown(): boolean {
    return this.estimates !== undefined;
  }

  /** Replace everything with a fresh read of all shards. */
  replace(available: readonly number[]): void {
    this.estimates = [...available];
  }

  /** Forget everything: the next hold reads before writing. */
  forget(): void {
    this.estimates = undefined;
  }

  /** Whether some shard is believed to hold `quantity` on its own (false while unknown). */
  mightServe(quantity: number): boolean {
    return this.estimates?.some((available) => available >= quantity) ?? false;
  }

  /**
   * Choose a shard for `quantity`, at random weighted by what each is believed to hold, and
   * count the tickets as taken at once. Concurrent holds in one process then spread over the
   * shards instead of all aiming at the same nearly empty one. `giveBack` undoes the claim
   * when the write does not happen. Undefined if no shard is believed to have enough.
   */
  claimShard(quantity: number, random: () => number): ShardTake | undefined {
    if (!this.estimates) return undefined;
    let total = 0;
    for (const available of this.estimates) if (available >= quantity) total += available;
    if (total === 0) return undefined;
    let draw = random() * total;
    let shard = this.estimates.findIndex((available) => available >= quantity);
    for (const [index, available] of this.estimates.entries()) {
      if (available < quantity) continue;
      shard = index;
      if (draw < available) break;
      draw -= available;
    }
    this.recordTaken([{ shard, quantity }]);
    return { shard, quantity };
  }

  /** Tickets leaving these shards (a claim, or our own take planned from a read). */
  recordTaken(takes: readonly ShardTake[]): void {
    for (const take of takes) this.update(take.shard, (estimate) => Math.max(0, estimate - take.quantity));
  }

  /** A claim whose write did not happen (refused for another reason, or to be retried). */
  giveBack(takes: readonly ShardTake[]): void {
    for (const take of takes) this.update(take.shard, (estimate) => estimate + take.quantity);
  }

  /** A write found the shard short. `available` is exact when DynamoDB returned the item. */
  recordShortfall(take: ShardTake, available: number | undefined): void {
    this.update(take.shard, (estimate) => (available === undefined ? Math.min(estimate, take.quantity - 1) : available));
  }

  /** The exact value after a write that returned it. */
  recordExact(shard: number, available: number): void {
    this.update(shard, () => available);
  }

  private update(shard: number, change: (estimate: number) => number): void {
    if (!this.estimates || shard >= this.estimates.length) return;
    this.estimates[shard] = change(this.estimates[shard]!);
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
      view = new InventoryView(event.shards);
      this.views.set(event.eventId, view);
    }
    return view;
  }
}

/**
 * Split `quantity` over the shards that have tickets, from a fresh read: one shard that can
 * serve it alone (chosen as `claimShard` does), else the fullest shards together in one transaction.
 * Returns undefined if that would need more shards than one transaction can hold.
 */
export function planTakes(
  available: readonly number[],
  quantity: number,
  random: () => number,
  maxShards: number,
): ShardTake[] | undefined {
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
