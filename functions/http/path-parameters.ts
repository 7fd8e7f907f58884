import { EventNotFound, ReservationNotFound } from '../domain/errors';
import { isEventId, isReservationId } from '../domain/ids';
import type { HttpRequest } from './request';

/** An id that cannot be ours is a 404 without touching the table. */
export function eventIdParameter(request: HttpRequest): string {
  const eventId = request.pathParameter('eventId');
  if (!isEventId(eventId)) throw new EventNotFound(eventId);
  return eventId;
}

export function reservationIdParameter(request: HttpRequest): string {
  const reservationId = request.pathParameter('reservationId');
  if (!isReservationId(reservationId)) throw new ReservationNotFound(reservationId);
  return reservationId;
}
