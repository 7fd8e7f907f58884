import { resolve } from 'node:path';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { App } from '../../functions/app';
import { type RouteDefinition, routes } from '../../lib/routes';
import { localContext, toApiGatewayEvent } from '../../local/api-gateway-event';
import type { RouteHandler } from '../../local/http-server';
import { asGatewayClaims } from '../../local/jwt-authorizer';
import type { TokenIssuer } from '../../local/jwt-issuer';
import { Router } from '../../local/router';

export interface ApiResponse<T = any> {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: T;
}

/** Who calls: the token's `sub` and groups. */
export interface Caller {
  readonly sub: string;
  readonly groups?: readonly string[];
}

export const organizer: Caller = { sub: 'olivia-organizer', groups: ['organizers'] };

interface RequestOptions {
  readonly body?: unknown;
  /** A raw body string, sent as is (for malformed JSON). */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
  /** Sent with a valid token for this caller (or, in process, with its verified claims). */
  readonly caller?: Caller;
}

/**
 * The API as a client sees it. `inProcessApi` builds the same API Gateway event the local
 * server builds, with the caller's claims where the JWT authorizer puts them, and calls the
 * route's handler directly; `httpApi` goes over HTTP with a real token from the local issuer,
 * through the stand-in for the authorizer. The same test steps run against either.
 */
export interface Api {
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
}

/** Every route's handler, built by its module's `createHandler` around the given app. */
export function inProcessApi(app: App): Api {
  const router = new Router(routes);
  const loading = Promise.all(
    routes.map(async (route) => {
      const module = (await import(resolve(__dirname, '..', '..', route.entry))) as { createHandler: (app: App) => RouteHandler };
      return [route, module.createHandler(app)] as const;
    }),
  ).then((entries) => new Map<RouteDefinition, RouteHandler>(entries));
  return {
    async request(method, path, options = {}) {
      const handlers = await loading;
      const match = router.match(method, path);
      if (!match) throw new Error(`No route for ${method} ${path}`);
      const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
      const claims = options.caller && match.route.access !== 'public' ? claimsOf(options.caller, app.config.groupsClaim) : undefined;
      const event = toApiGatewayEvent({ method, path, headers: { 'content-type': 'application/json', ...options.headers }, body }, match, claims);
      const result = await handlers.get(match.route)!(event, localContext(match.route.id, event.requestContext.requestId));
      return parse(result);
    },
  };
}

export function httpApi(baseUrl: string, issuer: TokenIssuer): Api {
  const tokens = new Map<string, Promise<string>>();
  const tokenFor = (caller: Caller) => {
    const key = JSON.stringify(caller);
    if (!tokens.has(key)) tokens.set(key, issuer.mint({ sub: caller.sub, groups: caller.groups }));
    return tokens.get(key)!;
  };
  return {
    async request(method, path, options = {}) {
      const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
      const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
      if (options.caller) headers.authorization = `Bearer ${await tokenFor(options.caller)}`;
      const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
      const text = await response.text();
      return { status: response.status, headers: Object.fromEntries(response.headers), body: text ? JSON.parse(text) : undefined };
    },
  };
}

/** The claims a verified token for `caller` arrives with, in API Gateway's string form. */
export function claimsOf(caller: Caller, groupsClaim: string): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  return asGatewayClaims({ sub: caller.sub, iat: now, exp: now + 3_600, ...(caller.groups && { [groupsClaim]: [...caller.groups] }) });
}

function parse(result: APIGatewayProxyStructuredResultV2): ApiResponse {
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return { status: result.statusCode ?? 200, headers, body: result.body ? JSON.parse(result.body) : undefined };
}

/** A reservation as its buyer saw it: who may act on it. */
type Owned = { readonly reservationId: string; readonly buyerId: string };

/**
 * The API's operations, named, over either transport. A buyer acts on a reservation as its own
 * buyer unless told otherwise (`as`): `api.confirm(reservation)` or `api.confirm(id, 'bob')`.
 */
export function stampede(api: Api) {
  const owned = (reservation: Owned | string, as?: string) =>
    typeof reservation === 'string'
      ? { id: reservation, caller: { sub: as ?? 'nobody' } }
      : { id: reservation.reservationId, caller: { sub: as ?? reservation.buyerId } };
  return {
    createEvent: (body: Record<string, unknown>, caller: Caller = organizer) => api.request('POST', '/events', { body, caller }),
    getEvent: (eventId: string) => api.request('GET', `/events/${eventId}`),
    /** `buyer` is who calls (the token's `sub`); the body carries the quantity only. */
    reserve: (eventId: string, { buyer, quantity }: { buyer: string; quantity: number }, idempotencyKey?: string) =>
      api.request('POST', `/events/${eventId}/reservations`, {
        body: { quantity },
        caller: { sub: buyer },
        headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey },
      }),
    getReservation: (reservation: Owned | string, as?: string) => {
      const { id, caller } = owned(reservation, as);
      return api.request('GET', `/reservations/${id}`, { caller });
    },
    confirm: (reservation: Owned | string, as?: string) => {
      const { id, caller } = owned(reservation, as);
      return api.request('POST', `/reservations/${id}/confirm`, { caller });
    },
    release: (reservation: Owned | string, as?: string) => {
      const { id, caller } = owned(reservation, as);
      return api.request('DELETE', `/reservations/${id}`, { caller });
    },
  };
}

export type Stampede = ReturnType<typeof stampede>;
