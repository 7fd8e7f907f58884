import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { HttpApiEvent } from '../functions/http/request';
import { routeKey } from '../lib/routes';
import type { RouteMatch } from './router';

export interface IncomingRequest {
  readonly method: string;
  readonly path: string;
  readonly rawQueryString?: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly sourceIp?: string;
}

/**
 * The event API Gateway HTTP API (payload format 2.0) would send the Lambda for this request,
 * so local calls exercise exactly what runs on AWS: header names lowercased and repeats joined
 * with commas, cookies in `cookies`, repeated query parameters comma-joined, the caller's
 * verified claims (if the route is protected) in `requestContext.authorizer.jwt.claims`.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
export function toApiGatewayEvent(request: IncomingRequest, match: RouteMatch, claims?: Readonly<Record<string, string>>): HttpApiEvent {
  const now = Date.now();
  const { cookie, ...headers } = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
  const cookies = cookie?.split(/;\s*|,/).filter((pair) => pair.length > 0);
  const queryStringParameters = queryParameters(request.rawQueryString ?? '');
  return {
    version: '2.0',
    routeKey: routeKey(match.route),
    rawPath: request.path,
    rawQueryString: request.rawQueryString ?? '',
    // Cookies travel in `cookies`, not in the headers; repeated query parameters are comma-joined.
    ...(cookies && cookies.length > 0 && { cookies }),
    headers,
    ...(queryStringParameters && { queryStringParameters }),
    pathParameters: match.pathParameters,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: request.method,
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: routeKey(match.route),
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
      // Where API Gateway's JWT authorizer puts a verified token's claims (protected routes only).
      ...(claims && { authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: { ...claims }, scopes: null } } }),
    },
    body: request.body === undefined || request.body === '' ? undefined : request.body,
    isBase64Encoded: false,
  };
}

function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) parameters[name] = name in parameters ? `${parameters[name]},${value}` : value;
  return Object.keys(parameters).length > 0 ? parameters : undefined;
}

/** A Lambda context for local invocations (only the fields the handlers and Powertools read). */
export function localContext(functionName: string, requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
