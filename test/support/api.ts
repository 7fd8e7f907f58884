import { resolve } from 'node:path';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { App } from '../../functions/app';
import { type RouteDefinition, routes } from '../../lib/routes';
import { localContext, toApiGatewayEvent } from '../../local/api-gateway-event';
import type { RouteHandler } from '../../local/http-server';
import { Router } from '../../local/router';

export interface ApiResponse<T = any> {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: T;
}

interface RequestOptions {
  readonly body?: unknown;
  /** A raw body string, sent as is (for malformed JSON). */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
}

/**
 * The API as a client sees it. `inProcessApi` builds the same API Gateway event the local
 * server builds and calls the route's handler directly; `httpApi` goes over HTTP. The same
 * test steps run against either (integration vs acceptance).
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
      const event = toApiGatewayEvent({ method, path, headers: { 'content-type': 'application/json', ...options.headers }, body }, match);
      const result = await handlers.get(match.route)!(event, localContext(match.route.id, event.requestContext.requestId));
      return parse(result);
    },
  };
}

export function httpApi(baseUrl: string): Api {
  return {
    async request(method, path, options = {}) {
      const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...options.headers },
        body,
      });
      const text = await response.text();
      return { status: response.status, headers: Object.fromEntries(response.headers), body: text ? JSON.parse(text) : undefined };
    },
  };
}

function parse(result: APIGatewayProxyStructuredResultV2): ApiResponse {
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return { status: result.statusCode ?? 200, headers, body: result.body ? JSON.parse(result.body) : undefined };
}

/** The API's operations, named, over either transport. */
export function stampede(api: Api) {
  return {
    createEvent: (body: Record<string, unknown>) => api.request('POST', '/events', { body }),
    getEvent: (eventId: string) => api.request('GET', `/events/${eventId}`),
    reserve: (eventId: string, body: Record<string, unknown>, idempotencyKey?: string) =>
      api.request('POST', `/events/${eventId}/reservations`, {
        body,
        headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey },
      }),
    getReservation: (reservationId: string) => api.request('GET', `/reservations/${reservationId}`),
    confirm: (reservationId: string) => api.request('POST', `/reservations/${reservationId}/confirm`),
    release: (reservationId: string) => api.request('DELETE', `/reservations/${reservationId}`),
  };
}

export type Stampede = ReturnType<typeof stampede>;
