import { type App, defaultApp } from '../app';
import { httpHandler } from '../http/handler';
import { reservationIdParameter } from '../http/path-parameters';
import { json } from '../http/responses';
import { reservationView } from '../http/views';

/** POST /reservations/{reservationId}/confirm: idempotent; 410 after expiry, 409 once released. */
export function createHandler(app: App) {
  return httpHandler(app, async (request) => {
    const reservation = await app.reservations.confirm(reservationIdParameter(request));
    return json(200, reservationView(reservation));
  });
}

export const handler = createHandler(defaultApp());
