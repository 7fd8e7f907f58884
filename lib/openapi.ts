import { toJsonSchema } from '@valibot/to-json-schema';
import type { GenericSchema } from 'valibot';
import type { ErrorCode } from '../functions/domain/errors';
import { errorBody } from '../functions/http/response-schemas';
import { statusByCode } from '../functions/http/responses';
import { limits, pathParameters } from '../functions/http/schemas';
import { type RouteDefinition, routes as routeTable } from './routes';

/**
 * The OpenAPI 3.1 document of the HTTP API, built from the route table and the request and
 * response schemas, so it cannot drift from what the handlers accept and answer.
 * `npm run openapi` writes it to docs/openapi.json (a test fails when that file is stale);
 * the local server serves it at `GET /openapi.json`.
 */
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, Operation>> };
type JsonSchema = Record<string, unknown>;
type Operation = Record<string, unknown>;

/** What each error code means to a client; every code of the error hierarchy is here. */
const errorMeanings: Record<ErrorCode, string> = {
  invalid_request: 'the body, a header or a field is invalid; `details.fields` lists every problem',
  unauthorized: 'no caller identity reached the function (on AWS the gateway answers a missing or invalid token itself)',
  forbidden: 'the caller may not do this (only organizers create events)',
  event_not_found: 'no such event',
  reservation_not_found: 'no such reservation',
  route_not_found: 'no such route',
  payload_too_large: 'the body is larger than the limit',
  unsafe_strategy_disabled: 'the `unsafe` control strategy is refused unless the process allows it',
  sold_out: 'fewer tickets remain than requested; `details.remaining` when known',
  buyer_limit_exceeded: "the buyer would pass the event's `maxPerBuyer`",
  not_held: 'the reservation is no longer held (confirmed or released)',
  hold_expired: 'the hold ran out; its tickets went back to sale',
  idempotency_key_reused: 'this Idempotency-Key was used with another body or event',
  contention: 'too many buyers raced for the same tickets; retry after `Retry-After`',
  throughput_exceeded: 'the service is at capacity; retry after `Retry-After`',
};

/** Every route may answer these besides its own errors. */
const everyRouteErrors: readonly ErrorCode[] = ['throughput_exceeded'];

export function buildOpenApi(routes: readonly RouteDefinition[] = routeTable, version = '0.1.0'): OpenApiDocument {
  const schemas: Record<string, JsonSchema> = {};
  /** A named component for a schema with a title, inline otherwise. */
  const ref = (schema: GenericSchema): JsonSchema => {
    const json = jsonSchema(schema);
    const title = typeof json.title === 'string' ? json.title : undefined;
    if (!title) return json;
    const { title: _title, ...rest } = json;
    schemas[title] = rest;
    return { $ref: `#/components/schemas/${title}` };
  };
  schemas.Error = withoutTitle(jsonSchema(errorBody));

  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const { contract } = route;
    const operation: Operation = {
      operationId: route.id,
      summary: route.description,
      ...(route.access !== 'public' && { security: [{ bearer: [] }] }),
      parameters: [
        ...parameterNames(route.path).map((name) => ({ name, in: 'path', required: true, schema: pathSchema(name) })),
        ...(contract.headers ?? []).map((header) => ({
          name: header.name,
          in: 'header',
          required: false,
          description: header.description,
          schema: jsonSchema(header.schema),
        })),
      ],
      ...(contract.body && {
        requestBody: {
          required: true,
          description: `At most ${limits.bodyBytes.max} bytes of UTF-8 JSON (a larger body is a 400 \`invalid_request\`).`,
          content: { 'application/json': { schema: ref(contract.body) } },
        },
      }),
      responses: {
        ...Object.fromEntries(
          contract.answers.map((answer) => [
            String(answer.status),
            {
              description: answer.description,
              ...(answer.headers && {
                headers: Object.fromEntries(Object.entries(answer.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }])),
              }),
              content: json(ref(answer.schema)),
            },
          ]),
        ),
        ...(route.access !== 'public' && { 401: gatewayUnauthorized }),
        // API Gateway's payload limit holds on every route, with a body or not.
        413: gatewayTooLarge,
        429: gatewayThrottled,
        ...errorResponses([...contract.errors, ...everyRouteErrors]),
        500: { description: '`internal_error`: an unexpected failure; the cause goes to the log only.', content: json({ $ref: '#/components/schemas/Error' }) },
      },
    };
    if ((operation.parameters as unknown[]).length === 0) delete operation.parameters;
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Stampede',
      version,
      description:
        'Flash-sale ticketing that sells exactly the tickets that exist. Every error is `{"error": code, "message": text, "details"?}`; branch on `error`.',
    },
    servers: [{ url: 'http://127.0.0.1:3000', description: '`npm start`' }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            "A token from the stage's issuer (Cognito by default; `npm start` mints local ones). The buyer is its `sub`; organizers are in the `organizers` group.",
        },
      },
    },
  };
}

/**
 * What API Gateway's JWT authorizer answers, before any function runs (its body cannot be
 * changed), or, rarely, the function: a verified token whose `sub` is no usable identity.
 */
const gatewayUnauthorized = {
  description:
    'From API Gateway: the bearer token is missing, expired, not yet valid, wrongly signed, or for another issuer or audience. `www-authenticate` says which.\n' +
    '`unauthorized`: from the function, for a valid token whose `sub` is empty or longer than the API accepts.',
  headers: { 'www-authenticate': { schema: { type: 'string' } } },
  content: json({
    oneOf: [
      { type: 'object', properties: { message: { const: 'Unauthorized' } }, required: ['message'] },
      { allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { error: { enum: ['unauthorized'] } } }] },
    ],
  }),
};

/** API Gateway's route throttling (stage settings), before any function runs. */
const gatewayThrottled = {
  description: "From API Gateway: more requests than the route's throttling allows (docs/deploy.md); retry later, with backoff.",
  content: json({ type: 'object', properties: { message: { const: 'Too Many Requests' } }, required: ['message'] }),
};

/** API Gateway's own payload limit, far above the functions' (requestBody's description). */
const gatewayTooLarge = {
  description: 'From API Gateway (locally the stand-in, as `payload_too_large`): a body over 10 MB, the HTTP API payload limit.',
  content: json({ type: 'object', properties: { message: { type: 'string' } }, required: ['message'] }),
};

/** One response per status; codes sharing a status are listed, and `error` is limited to them. */
function errorResponses(codes: readonly ErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) byStatus.set(statusByCode[code], [...(byStatus.get(statusByCode[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, sharing]) => {
      const retryable = sharing.some((code) => code === 'contention' || code === 'throughput_exceeded');
      return [
        String(status),
        {
          description: sharing.map((code) => `\`${code}\`: ${errorMeanings[code]}`).join('\n'),
          ...(retryable && { headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } } } }),
          content: json({ allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { error: { enum: sharing } } }] }),
        },
      ];
    }),
  );
}

function jsonSchema(schema: GenericSchema): JsonSchema {
  // The `check` actions (not blank, no control characters) carry their JSON Schema form in metadata.
  const { $schema: _dialect, ...rest } = toJsonSchema(schema, { target: 'draft-2020-12', ignoreActions: ['check'] }) as JsonSchema;
  return rest;
}

function withoutTitle({ title: _title, ...rest }: JsonSchema): JsonSchema {
  return rest;
}

function pathSchema(name: string): JsonSchema {
  const schema = pathParameters[name];
  if (!schema) throw new Error(`No schema for path parameter '${name}': add it to pathParameters in functions/http/schemas.ts`);
  return jsonSchema(schema);
}

function parameterNames(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
}

function json(schema: JsonSchema) {
  return { 'application/json': { schema } };
}
