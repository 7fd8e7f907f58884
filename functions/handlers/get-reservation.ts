import { type App, defaultApp } from '../app';
import { httpHandler } from '../http/handler';
import { reservationIdParameter } from '../http/path-parameters';
import { json } from '../http/responses';
import { reservationView } from '../http/views';

/** GET /reservations/{reservationId} */
export function createHandler(app: App) {
  return httpHandler(app, async (request) => {
    const reservation = await app.reservations.get(reservationIdParameter(request));
    return json(200, reservationView(reservation));
  });
}

export const handler = createHandler(defaultApp());
