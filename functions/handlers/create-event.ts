import { type App, defaultApp } from '../app';
import { parseNewEvent } from '../http/bodies';
import { httpHandler } from '../http/handler';
import { json } from '../http/responses';
import { eventView } from '../http/views';

/** POST /events */
export function createHandler(app: App) {
  return httpHandler(app, async (request) => {
    const input = parseNewEvent(request.jsonBody());
    const created = await app.events.create(input);
    return json(201, eventView(created));
  });
}

export const handler = createHandler(defaultApp());
