import type { NewEvent } from '../domain/event-service';
import { strategies } from '../domain/model';
import { BodyReader } from './validation';

/** The request bodies of the API, validated. Limits are the API contract (see README). */

export function parseNewEvent(body: unknown): NewEvent {
  const reader = new BodyReader(body);
  const event: NewEvent = {
    name: reader.requiredString('name', { min: 1, max: 200 }),
    capacity: reader.requiredInteger('capacity', { min: 1, max: 1_000_000 }),
    strategy: reader.optionalChoice('strategy', strategies),
    shards: reader.optionalInteger('shards', { min: 1, max: 1_000 }),
    holdSeconds: reader.optionalInteger('holdSeconds', { min: 30, max: 86_400 }),
    maxPerBuyer: reader.optionalInteger('maxPerBuyer', { min: 1, max: 100 }),
  };
  reader.finish();
  return event;
}

export interface ReserveBody {
  readonly buyerId: string;
  readonly quantity: number;
}

/** `quantity` is checked against the event's own `maxPerBuyer` once the event is known. */
export function parseReserveBody(body: unknown): ReserveBody {
  const reader = new BodyReader(body);
  const parsed = {
    buyerId: reader.requiredString('buyerId', { min: 1, max: 128 }),
    quantity: reader.requiredInteger('quantity', { min: 1, max: 100 }),
  };
  reader.finish();
  return parsed;
}
