import { type App, defaultApp } from '../app';
import { httpHandler } from '../http/handler';
import { buyer } from '../http/identity';
import { reservationIdParameter } from '../http/path-parameters';
import { json } from '../http/responses';
import { reservationView } from '../http/views';

/** DELETE /reservations/{reservationId}: the buyer's own hold; tickets go back exactly once; releasing again changes nothing. */
export function createHandler(app: App) {
  return httpHandler(
    app,
    async (request) => {
      const { sub } = buyer(request, app.config);
      const reservation = await app.reservations.release(reservationIdParameter(request), sub);
      return json(200, reservationView(reservation));
    },
    'finishing',
  );
}

export const handler = createHandler(defaultApp());
