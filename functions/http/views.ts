import type * as v from 'valibot';
import type { EventWithAvailability } from '../domain/event-service';
import type { Reservation } from '../domain/model';
import type { eventView as eventViewSchema, reservationView as reservationViewSchema } from './response-schemas';

/** The JSON shapes the API returns, typed by their schemas (response-schemas.ts). */

export function eventView({ event, available }: EventWithAvailability): v.InferOutput<typeof eventViewSchema> {
  return {
    eventId: event.eventId,
    name: event.name,
    capacity: event.capacity,
    strategy: event.strategy,
    shards: event.shards,
    holdSeconds: event.holdSeconds,
    maxPerBuyer: event.maxPerBuyer,
    available,
  };
}

export function reservationView(reservation: Reservation): v.InferOutput<typeof reservationViewSchema> {
  const { status } = reservation;
  // The service answers "not found" for a hold still being made; reaching here with one is a bug.
  if (status === 'PENDING') throw new Error(`Reservation ${reservation.reservationId} is PENDING and must not be shown`);
  return {
    reservationId: reservation.reservationId,
    eventId: reservation.eventId,
    buyerId: reservation.buyerId,
    quantity: reservation.quantity,
    status,
    expiresAt: new Date(status === 'QUEUED' ? (reservation.repairAt ?? reservation.expiresAt) : reservation.expiresAt).toISOString(),
    ...(reservation.rejection && { rejection: reservation.rejection }),
  };
}
