import type { EventWithAvailability } from '../domain/event-service';
import type { Reservation } from '../domain/model';

/** The JSON shapes the API returns. */

export function eventView({ event, available }: EventWithAvailability) {
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

export function reservationView(reservation: Reservation) {
  return {
    reservationId: reservation.reservationId,
    eventId: reservation.eventId,
    buyerId: reservation.buyerId,
    quantity: reservation.quantity,
    status: reservation.status,
    expiresAt: new Date(reservation.expiresAt).toISOString(),
  };
}
