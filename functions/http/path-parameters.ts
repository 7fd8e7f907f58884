import * as v from 'valibot';
import { EventNotFound, ReservationNotFound } from '../domain/errors';
import type { HttpRequest } from './request';
import { eventIdParameter as eventIdSchema, reservationIdParameter as reservationIdSchema } from './schemas';

/** An id that cannot be ours is a 404 without touching the table. */
export function eventIdParameter(request: HttpRequest): string {
  const eventId = request.pathParameter('eventId');
  if (!v.is(eventIdSchema, eventId)) throw new EventNotFound(eventId);
  return eventId;
}

export function reservationIdParameter(request: HttpRequest): string {
  const reservationId = request.pathParameter('reservationId');
  if (!v.is(reservationIdSchema, reservationId)) throw new ReservationNotFound(reservationId);
  return reservationId;
}
