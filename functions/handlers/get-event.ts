import { type App, defaultApp } from '../app';
import { httpHandler } from '../http/handler';
import { eventIdParameter } from '../http/path-parameters';
import { json } from '../http/responses';
import { eventView } from '../http/views';

/** GET /events/{eventId} */
export function createHandler(app: App) {
  return httpHandler(app, async (request) => {
    const found = await app.events.get(eventIdParameter(request));
    return json(200, eventView(found));
  });
}

export const handler = createHandler(defaultApp());
