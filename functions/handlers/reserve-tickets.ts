import { type App, defaultApp } from '../app';
import { parseReserveBody } from '../http/bodies';
import { httpHandler } from '../http/handler';
import { buyer } from '../http/identity';
import { eventIdParameter } from '../http/path-parameters';
import { json } from '../http/responses';
import { parseIdempotencyKey } from '../http/validation';
import { reservationView } from '../http/views';

/**
 * POST /events/{eventId}/reservations: the caller holds tickets; 201 for a new hold, 200 for a
 * replay of the same key, 202 for a `queued` request still waiting for its turn (a replay of one
 * too: the client is told where to look, as the first time, not 200 as if it held tickets).
 */
export function createHandler(app: App) {
  return httpHandler(app, async (request) => {
    const { sub } = buyer(request, app.config);
    const eventId = eventIdParameter(request);
    const idempotencyKey = parseIdempotencyKey(request.header('idempotency-key'));
    const { quantity } = parseReserveBody(request.jsonBody());
    const { reservation, replayed } = await app.reservations.reserve({ eventId, buyerId: sub, quantity, idempotencyKey });
    // A `queued` request whose turn has not come yet: accepted, and where to look for the decision.
    if (reservation.status === 'QUEUED') return json(202, reservationView(reservation), { location: `/reservations/${reservation.reservationId}` });
    return json(replayed ? 200 : 201, reservationView(reservation));
  });
}

export const handler = createHandler(defaultApp());
