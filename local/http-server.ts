import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { RouteDefinition } from '../lib/routes';
import { localContext, toApiGatewayEvent } from './api-gateway-event';
import { Router } from './router';

export type RouteHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** Wraps each handler call, e.g. to meter the DynamoDB calls made for it (see CapacityMeter). */
export type ObserveRequest = (
  route: RouteDefinition,
  handle: () => Promise<APIGatewayProxyStructuredResultV2>,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** Same limit as API Gateway HTTP APIs' 10 MB payload would be overkill; our bodies are tiny. */
const maxBodyBytes = 64 * 1024;

/** Loads each route's handler module (its `handler` export), exactly the code CDK deploys. */
export async function loadRouteHandlers(routes: readonly RouteDefinition[]): Promise<Map<RouteDefinition, RouteHandler>> {
  const root = resolve(__dirname, '..');
  const loaded = await Promise.all(
    routes.map(async (route) => [route, ((await import(resolve(root, route.entry))) as { handler: RouteHandler }).handler] as const),
  );
  return new Map(loaded);
}

/**
 * A local stand-in for API Gateway: matches the route table, builds the payload 2.0 event,
 * calls the handler and writes its structured result. Extra `localRoutes` (not deployed)
 * serve development endpoints such as the load test's counters.
 */
export function createLocalApi(
  routes: readonly RouteDefinition[],
  handlers: ReadonlyMap<RouteDefinition, RouteHandler>,
  localRoutes: Record<string, () => unknown> = {},
  observe: ObserveRequest = (_route, handle) => handle(),
): Server {
  const router = new Router(routes);
  const server = createServer(async (request, response) => {
    try {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const local = localRoutes[`${request.method} ${url.pathname}`];
      if (local) return send(response, { statusCode: 200, body: JSON.stringify(local()) });
      const match = router.match(request.method ?? 'GET', url.pathname);
      if (!match) {
        return send(response, {
          statusCode: 404,
          body: JSON.stringify({ error: 'route_not_found', message: `No route for ${request.method} ${url.pathname}.` }),
        });
      }
      const body = await readBody(request);
      if (body === undefined) {
        return send(response, {
          statusCode: 413,
          body: JSON.stringify({ error: 'payload_too_large', message: `Request bodies are limited to ${maxBodyBytes} bytes.` }),
        });
      }
      const event = toApiGatewayEvent(
        {
          method: request.method ?? 'GET',
          path: url.pathname,
          rawQueryString: url.search.slice(1),
          headers: flattenHeaders(request),
          body,
          sourceIp: request.socket.remoteAddress,
        },
        match,
      );
      const handler = handlers.get(match.route)!;
      const context = localContext(match.route.id, event.requestContext.requestId);
      send(response, await observe(match.route, () => handler(event, context)));
    } catch (error) {
      // Handlers answer their own errors; reaching this is a bug in the local server itself.
      console.error('Local API failure', error);
      send(response, { statusCode: 500, body: JSON.stringify({ error: 'internal_error', message: 'Local server failure.' }) });
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

function send(response: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  response.writeHead(result.statusCode ?? 200, { 'content-type': 'application/json', ...stringHeaders(result.headers) });
  response.end(result.body ?? '');
}

function stringHeaders(headers: APIGatewayProxyStructuredResultV2['headers']): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]));
}

function flattenHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
