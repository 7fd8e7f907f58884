import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { InvalidRequest, PayloadTooLarge, RouteNotFound } from '../functions/domain/errors';
import { errorResponse, type HttpResult } from '../functions/http/responses';
import type { Log } from '../functions/observability/log';
import type { RouteDefinition } from '../lib/routes';
import { localContext, toApiGatewayEvent } from './api-gateway-event';
import { type JwtAuthorizer, unauthorizedResponse } from './jwt-authorizer';
import { Router } from './router';

export type RouteHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** Wraps each handler call, e.g. to meter the DynamoDB calls made for it (see CapacityMeter). */
type ObserveRequest = (route: RouteDefinition, handle: () => Promise<HttpResult>) => Promise<HttpResult>;

/** A development endpoint of the local server only (never deployed): its JSON body and query in, its answer out. */
export type LocalRoute = (body: unknown, query: URLSearchParams) => HttpResult | Promise<HttpResult>;

/** API Gateway HTTP APIs take payloads up to 10 MB; the functions themselves refuse far less. */
const maxBodyBytes = 10 * 1024 * 1024;

/** Loads each route's handler module (its `handler` export), exactly the code CDK deploys. */
export async function loadRouteHandlers(routes: readonly RouteDefinition[]): Promise<Map<RouteDefinition, RouteHandler>> {
  const root = resolve(__dirname, '..');
  const loaded = await Promise.all(
    routes.map(async (route) => [route, ((await import(resolve(root, route.entry))) as { handler: RouteHandler }).handler] as const),
  );
  return new Map(loaded);
}

export interface LocalApiOptions {
  /** Development endpoints by `METHOD /path`, e.g. the load test's counters. */
  readonly localRoutes?: Record<string, LocalRoute>;
  readonly observe?: ObserveRequest;
  /** Checks the bearer token of every route that is not public, as API Gateway's JWT authorizer does. */
  readonly authorizer: JwtAuthorizer;
  readonly log: Log;
}

/**
 * A local stand-in for API Gateway: matches the route table, checks the bearer token of a
 * protected route (401 as API Gateway answers it), builds the payload 2.0 event with the
 * token's claims, calls the handler and writes its structured result. What else it answers
 * itself (no such route, a body past the limit, its own failures) goes through the same error
 * mapping as the functions' answers.
 */
export function createLocalApi(routes: readonly RouteDefinition[], handlers: ReadonlyMap<RouteDefinition, RouteHandler>, options: LocalApiOptions): Server {
  const router = new Router(routes);
  const { localRoutes = {}, observe = (_route, handle) => handle(), authorizer, log } = options;
  const server = createServer(async (request, response) => {
    const method = request.method ?? 'GET';
    try {
      const url = requestUrl(request.url);
      const body = await readBody(request);
      const local = localRoutes[`${method} ${url.pathname}`];
      if (local) return send(response, await local(parseJson(body), url.searchParams));
      const match = router.match(method, url.pathname);
      if (!match) throw new RouteNotFound(method, url.pathname);
      const headers = flattenHeaders(request);
      let claims: Record<string, string> | undefined;
      if (match.route.access !== 'public') {
        const authorization = await authorizer.authorize(headers.authorization);
        if (!authorization.authorized) return send(response, unauthorizedResponse(authorization.reason));
        claims = authorization.claims;
      }
      const event = toApiGatewayEvent(
        { method, path: url.pathname, rawQueryString: url.search.slice(1), headers, body, sourceIp: request.socket.remoteAddress },
        match,
        claims,
      );
      const handler = handlers.get(match.route)!;
      const context = localContext(match.route.id, event.requestContext.requestId);
      send(response, await observe(match.route, () => handler(event, context) as Promise<HttpResult>));
    } catch (error) {
      send(response, errorResponse(error, log, 'local'));
    }
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

/**
 * A rush opens connections faster than a busy event loop accepts them: with Node's default
 * backlog (511) the kernel dropped SYNs by the tens of thousands and buyers saw ECONNRESET and
 * multi-second connect times. Ask for a deep accept queue (the kernel caps it at
 * net.core.somaxconn), as API Gateway would never refuse a connection.
 */
const listenBacklog = 4_096;

export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: listenBacklog }, () => resolvePort((server.address() as AddressInfo).port));
  });
}

/**
 * The request target as a URL. Prefixing the origin (instead of resolving against a base) keeps a
 * path such as `//%` a path: resolved, it would read as a host, throw, and, outside the handler's
 * error mapping, take the whole server down.
 */
function requestUrl(target = '/'): URL {
  try {
    return new URL(`http://localhost${target.startsWith('/') ? target : `/${target}`}`);
  } catch {
    throw new InvalidRequest('The request target is not a valid path.', [{ field: 'path', problem: 'is not a valid path' }]);
  }
}

function send(response: ServerResponse, result: HttpResult): void {
  response.writeHead(result.statusCode ?? 200, { 'content-type': 'application/json', ...stringHeaders(result.headers) });
  response.end(result.body ?? '');
}

function stringHeaders(headers: HttpResult['headers']): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]));
}

/**
 * As API Gateway delivers them: repeated headers joined with a bare comma. From the headers as
 * sent (`headersDistinct`): Node's `headers` has already joined repeats with ", " (and kept only
 * the first of some, such as Authorization), which API Gateway does not.
 */
function flattenHeaders(request: IncomingMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(request.headersDistinct).map(([name, values]) => [name, (values ?? []).join(',')]));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new PayloadTooLarge(maxBodyBytes);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A local route's body: JSON, or nothing. */
function parseJson(body: string): unknown {
  if (body === '') return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}
