import type { NewEvent } from '../domain/event-service';
import { newEventBody, reserveBody } from './schemas';
import { parseBody } from './validation';

/** The request bodies of the API, validated against their schemas (functions/http/schemas.ts). */

export function parseNewEvent(body: unknown): NewEvent {
  return parseBody(newEventBody, body);
}

/** `quantity` is checked against the event's own `maxPerBuyer` once the event is known. */
export function parseReserveBody(body: unknown) {
  return parseBody(reserveBody, body);
}
