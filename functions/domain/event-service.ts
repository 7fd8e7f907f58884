import type { Clock } from './clock';
import { EventNotFound, InvalidRequest, UnsafeStrategyDisabled } from './errors';
import { newEventId } from './ids';
import { defaultHoldSeconds, defaultMaxPerBuyer, defaultQueueLogKeys, defaultShardCount, defaultStrategy, type StrategyName, type TicketEvent } from './model';
import type { EventRepository } from './ports';

export interface NewEvent {
  readonly name: string;
  readonly capacity: number;
  readonly strategy?: StrategyName;
  readonly shards?: number;
  readonly holdSeconds?: number;
  readonly maxPerBuyer?: number;
}

export interface EventWithAvailability {
  readonly event: TicketEvent;
  readonly available: number;
}

export class EventService {
  constructor(
    private readonly events: EventRepository,
    private readonly clock: Clock,
    private readonly allowUnsafe: boolean,
  ) {}

  async create(input: NewEvent): Promise<EventWithAvailability> {
    const strategy = input.strategy ?? defaultStrategy;
    if (strategy === 'unsafe' && !this.allowUnsafe) throw new UnsafeStrategyDisabled();
    const event: TicketEvent = {
      eventId: newEventId(),
      name: input.name,
      capacity: input.capacity,
      strategy,
      shards: shardCount(strategy, input),
      holdSeconds: input.holdSeconds ?? defaultHoldSeconds,
      maxPerBuyer: input.maxPerBuyer ?? defaultMaxPerBuyer,
      createdAt: this.clock.now(),
    };
    await this.events.create(event);
    return { event, available: event.capacity };
  }

  async get(eventId: string): Promise<EventWithAvailability> {
    const event = await this.events.find(eventId);
    if (!event) throw new EventNotFound(eventId);
    return { event, available: await this.events.remaining(event) };
  }
}

/**
 * Only `sharded` splits inventory (a shard with no tickets would only waste a partition), and
 * only `queued` spreads its request log (over as many keys as it is told; its tickets are a stock and 8 return bins).
 */
function shardCount(strategy: StrategyName, input: NewEvent): number {
  if (strategy === 'queued') return input.shards ?? defaultQueueLogKeys;
  if (strategy !== 'sharded') {
    if (input.shards !== undefined && input.shards !== 1) {
      throw new InvalidRequest(`The '${strategy}' strategy keeps one inventory item; shards must be 1 or omitted.`, [
        { field: 'shards', problem: `must be 1 for strategy '${strategy}'` },
      ]);
    }
    return 1;
  }
  const shards = input.shards ?? Math.min(defaultShardCount, input.capacity);
  if (shards > input.capacity) {
    throw new InvalidRequest('Every shard needs at least one ticket; use fewer shards than the capacity.', [
      { field: 'shards', problem: `must not exceed capacity (${input.capacity})` },
    ]);
  }
  return shards;
}
