import * as v from 'valibot';
import { defaultHoldSeconds, defaultMaxPerBuyer, defaultQueueLogKeys, defaultShardCount, defaultStrategy, minHoldSeconds, strategies } from '../domain/model';

/**
 * The HTTP contract's request shapes, one valibot schema each, and the only place each limit
 * is written: validation (functions/http/validation.ts), the OpenAPI document
 * (docs/openapi.json, built by lib/openapi.ts) and the load tools' flags all read them here.
 * Every problem message is a field-level answer a client can act on.
 */
export const limits = {
  eventName: { min: 1, max: 200 },
  capacity: { min: 1, max: 1_000_000 },
  shards: { min: 1, max: 1_000 },
  holdSeconds: { min: minHoldSeconds, max: 86_400 },
  maxPerBuyer: { min: 1, max: 100 },
  /** Also bounded by the event's own maxPerBuyer, checked once the event is known. */
  quantity: { min: 1, max: 100 },
  idempotencyKey: { min: 1, max: 128 },
  /** A request body, in UTF-8 bytes; a larger one is a 400 before it is parsed (real requests are a few hundred bytes). */
  bodyBytes: { min: 0, max: 16 * 1024 },
} as const;

type Range = { readonly min: number; readonly max: number };

// Control characters in names only ever come from bugs or attacks.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const controlCharacters = /[\u0000-\u001f\u007f]/;
/** With the `u` flag a surrogate pair is one code point, so this matches only unpaired halves. */
const loneSurrogate = /\p{Surrogate}/u;

/**
 * Text of `min`..`max` characters (code points, as JSON Schema counts them), not blank. The
 * checks have no JSON Schema form of their own: `metadata` says the same for the OpenAPI document.
 */
function text({ min, max }: Range) {
  return v.pipe(
    v.string('must be a string'),
    v.check((value) => value.trim().length > 0, 'must not be blank'),
    v.check((value) => !controlCharacters.test(value), 'must not contain control characters'),
    // A lone UTF-16 surrogate (`"\ud800"` in JSON) has no UTF-8 form: DynamoDB could not store it as sent.
    v.check((value) => !loneSurrogate.test(value), 'must be valid Unicode'),
    v.check((value) => [...value].length >= min && [...value].length <= max, `must be ${min} to ${max} characters long`),
    v.metadata({ minLength: min, maxLength: max, pattern: '^(?=.*\\S)[^\\x00-\\x1f\\x7f]*$' }),
  );
}

function integer({ min, max }: Range) {
  const problem = `must be between ${min} and ${max}`;
  return v.pipe(v.number('must be an integer'), v.integer('must be an integer'), v.minValue(min, problem), v.maxValue(max, problem));
}

/** Optional fields accept `null` as "not given", as clients serializing an unset field send it. */
function optional<T extends v.GenericSchema>(schema: T) {
  return v.optional(v.nullable(schema), undefined);
}

export const newEventBody = v.pipe(
  v.strictObject({
    name: v.pipe(text(limits.eventName), v.description('Shown to buyers.')),
    capacity: v.pipe(integer(limits.capacity), v.description('Tickets on sale.')),
    strategy: v.pipe(
      optional(v.picklist(strategies, `must be one of: ${strategies.join(', ')}`)),
      v.description(`How holds take tickets (docs/design.md); default \`${defaultStrategy}\`. \`unsafe\` is refused unless the process allows it.`),
    ),
    shards: v.pipe(
      optional(integer(limits.shards)),
      v.description(
        `\`sharded\`: inventory items (default min(${defaultShardCount}, capacity); at most \`capacity\`). \`queued\`: keys its request log is spread over (default ${defaultQueueLogKeys}; 1 for exact arrival order). Others: 1 or omitted.`,
      ),
    ),
    holdSeconds: v.pipe(optional(integer(limits.holdSeconds)), v.description(`How long a hold lasts before it expires; default ${defaultHoldSeconds}.`)),
    maxPerBuyer: v.pipe(optional(integer(limits.maxPerBuyer)), v.description(`Tickets one buyer may hold or buy; default ${defaultMaxPerBuyer}.`)),
  }),
  v.title('NewEvent'),
);

/** The buyer is the caller (the token's `sub`), never the body: an old client sending `buyerId` gets a 400. */
export const reserveBody = v.pipe(
  v.strictObject({
    quantity: v.pipe(integer(limits.quantity), v.description("Tickets to hold; at most the event's `maxPerBuyer`.")),
  }),
  v.title('ReserveRequest'),
);

/** `Idempotency-Key`: printable ASCII without spaces; use a UUID. */
export const idempotencyKeyHeader = v.pipe(
  v.string(),
  v.regex(
    new RegExp(`^[\\x21-\\x7e]{${limits.idempotencyKey.min},${limits.idempotencyKey.max}}$`),
    `must be ${limits.idempotencyKey.min} to ${limits.idempotencyKey.max} printable ASCII characters`,
  ),
);

/** Ids are a prefix plus 22 base64url characters (128 bits): see functions/domain/ids.ts. */
export const eventIdParameter = v.pipe(v.string(), v.regex(/^evt_[A-Za-z0-9_-]{22}$/));
export const reservationIdParameter = v.pipe(v.string(), v.regex(/^res_[A-Za-z0-9_-]{22}$/));

/** Every path parameter of the route table, by name. */
export const pathParameters: Readonly<Record<string, v.GenericSchema>> = { eventId: eventIdParameter, reservationId: reservationIdParameter };
