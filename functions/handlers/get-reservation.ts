import { type App, defaultApp } from '../app';
import { httpHandler } from '../http/handler';
import { buyer } from '../http/identity';
import { reservationIdParameter } from '../http/path-parameters';
import { json } from '../http/responses';
import { reservationView } from '../http/views';

/** GET /reservations/{reservationId}: the caller's own reservation; anyone else's does not exist for them (404). */
export function createHandler(app: App) {
  return httpHandler(app, async (request) => {
    const { sub } = buyer(request, app.config);
    const reservation = await app.reservations.get(reservationIdParameter(request), sub);
    return json(200, reservationView(reservation));
  });
}

export const handler = createHandler(defaultApp());
