import * as v from 'valibot';
import { rejectionReasons, reservationStatuses, strategies } from '../domain/model';

/**
 * The JSON the API answers with, as schemas: views.ts is typed by them, the OpenAPI document
 * (lib/openapi.ts) publishes them and the acceptance tests check real answers against them.
 * Handlers import only their types, so these never reach a bundle.
 */
export const eventView = v.pipe(
  v.strictObject({
    eventId: v.string(),
    name: v.string(),
    capacity: v.pipe(v.number(), v.integer()),
    strategy: v.picklist(strategies),
    shards: v.pipe(v.number(), v.integer(), v.minValue(1)),
    holdSeconds: v.pipe(v.number(), v.integer()),
    maxPerBuyer: v.pipe(v.number(), v.integer()),
    available: v.pipe(v.number(), v.integer(), v.minValue(0), v.description('Tickets neither held nor sold right now.')),
  }),
  v.title('Event'),
);

export const reservationView = v.pipe(
  v.strictObject({
    reservationId: v.string(),
    eventId: v.string(),
    buyerId: v.string(),
    quantity: v.pipe(v.number(), v.integer(), v.minValue(1)),
    status: v.pipe(
      v.picklist(reservationStatuses),
      v.description('A hold past its expiry reads EXPIRED. `queued` events: QUEUED until its turn comes, then HELD or REJECTED.'),
    ),
    expiresAt: v.pipe(
      v.string(),
      v.isoTimestamp(),
      v.description('When the hold ends unless confirmed (ISO 8601); for a QUEUED request, when it is given up.'),
    ),
    rejection: v.optional(v.pipe(v.picklist(rejectionReasons), v.description('Why a REJECTED request was turned down.'))),
  }),
  v.title('Reservation'),
);

export const errorBody = v.pipe(
  v.strictObject({
    error: v.pipe(v.string(), v.description('A stable snake_case code to branch on.')),
    message: v.pipe(v.string(), v.description('For people; may change.')),
    details: v.optional(v.pipe(v.record(v.string(), v.unknown()), v.description('e.g. `fields`: one `{field, problem}` per invalid field.'))),
  }),
  v.title('Error'),
);
