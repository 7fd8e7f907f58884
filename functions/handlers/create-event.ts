import { type App, defaultApp } from '../app';
import { parseNewEvent } from '../http/bodies';
import { httpHandler } from '../http/handler';
import { organizer } from '../http/identity';
import { json } from '../http/responses';
import { eventView } from '../http/views';

/** POST /events: organizers only. */
export function createHandler(app: App) {
  return httpHandler(app, async (request) => {
    organizer(request, app.config);
    const input = parseNewEvent(request.jsonBody());
    const created = await app.events.create(input);
    return json(201, eventView(created));
  });
}

export const handler = createHandler(defaultApp());
