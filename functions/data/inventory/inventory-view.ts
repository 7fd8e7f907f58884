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

  /** A random shard we believe can serve `quantity` alone, or undefined if none (or unknown). */
  pickShard(quantity: number, random: () => number): ShardTake | undefined {
    if (!this.estimates) return undefined;
    const candidates: number[] = [];
    this.estimates.forEach((available, shard) => {
      if (available >= quantity) candidates.push(shard);
    });
    if (candidates.length === 0) return undefined;
    const shard = candidates[Math.floor(random() * candidates.length)]!;
    return { shard, quantity };
  }

  /** Our own successful take: the shard has at most this much less now. */
  recordTaken(takes: readonly ShardTake[]): void {
    for (const take of takes) this.update(take.shard, (estimate) => Math.max(0, estimate - take.quantity));
  }

  /** A write found the shard short. `available` is exact when DynamoDB returned the item. */
  recordShortfall(take: ShardTake, available: number | undefined): void {
    this.update(take.shard, (estimate) => Math.min(estimate, available ?? take.quantity - 1));
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
 * Split `quantity` over the shards that have tickets, from a fresh read: one random shard
 * that can serve it alone, else the fullest shards together in one transaction.
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
  const single = view.pickShard(quantity, random);
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
