import { type StrategyName, strategies, type TicketEvent } from '../../domain/model';

/** An event's immutable settings. Item: pk `EVENT#<eventId>`, sk `EVENT`. */
const eventItemType = 'Event';

export function eventKey(eventId: string) {
  return { pk: `EVENT#${eventId}`, sk: 'EVENT' };
}

export function toEventItem(event: TicketEvent) {
  return { ...eventKey(event.eventId), type: eventItemType, ...event };
}

export function fromEventItem(item: Record<string, unknown>): TicketEvent {
  const strategy = item.strategy as StrategyName;
  if (!strategies.includes(strategy)) throw new Error(`Event item has unknown strategy '${String(strategy)}'`);
  return {
    eventId: String(item.eventId),
    name: String(item.name),
    capacity: Number(item.capacity),
    strategy,
    shards: Number(item.shards),
    holdSeconds: Number(item.holdSeconds),
    maxPerBuyer: Number(item.maxPerBuyer),
    createdAt: Number(item.createdAt),
  };
}
