import type { APIGatewayEventRequestContextJWTAuthorizer, APIGatewayProxyEventV2 } from 'aws-lambda';
import { InvalidRequest } from '../domain/errors';
import { limits } from './schemas';

/** Largest request body we parse: the schemas' limit. */
const maxBodyBytes = limits.bodyBytes.max;

/**
 * An API Gateway HTTP API (payload format 2.0) request. On a route with the JWT authorizer,
 * `requestContext.authorizer.jwt.claims` holds the verified token's claims; public routes have none.
 */
export type HttpApiEvent = APIGatewayProxyEventV2 & {
  readonly requestContext: APIGatewayProxyEventV2['requestContext'] & { readonly authorizer?: APIGatewayEventRequestContextJWTAuthorizer };
};

/** Read access to an API Gateway HTTP API (payload format 2.0) request. */
export class HttpRequest {
  constructor(readonly event: HttpApiEvent) {}

  /** The verified token's claims, as the JWT authorizer passed them; undefined on a public route. */
  get claims(): Readonly<Record<string, unknown>> | undefined {
    return this.event.requestContext?.authorizer?.jwt?.claims;
  }

  get requestId(): string {
    return this.event.requestContext?.requestId ?? 'unknown';
  }

  /** A path parameter the route table guarantees; its absence is a routing bug. */
  pathParameter(name: string): string {
    const value = this.event.pathParameters?.[name];
    if (value === undefined) throw new Error(`Route has no path parameter '${name}'`);
    return value;
  }

  /** Header value; API Gateway lower-cases header names. */
  header(name: string): string | undefined {
    return this.event.headers?.[name.toLowerCase()];
  }

  /** The body as parsed JSON; a missing, oversized or malformed body is the client's error. */
  jsonBody(): unknown {
    const raw = this.event.body;
    if (raw === undefined || raw === null || raw === '') {
      throw new InvalidRequest('The request body must be a JSON object.', [{ field: 'body', problem: 'is required' }]);
    }
    const text = this.event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    if (Buffer.byteLength(text, 'utf8') > maxBodyBytes) {
      throw new InvalidRequest(`The request body must be at most ${maxBodyBytes} bytes.`, [{ field: 'body', problem: 'is too large' }]);
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new InvalidRequest('The request body is not valid JSON.', [{ field: 'body', problem: 'is not valid JSON' }]);
    }
  }
}
