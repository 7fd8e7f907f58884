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
 * so local calls exercise exactly what runs on AWS: header names lowercased, the caller's
 * verified claims (if the route is protected) in `requestContext.authorizer.jwt.claims`.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
export function toApiGatewayEvent(request: IncomingRequest, match: RouteMatch, claims?: Readonly<Record<string, string>>): HttpApiEvent {
  const now = Date.now();
  const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
  return {
    version: '2.0',
    routeKey: routeKey(match.route),
    rawPath: request.path,
    rawQueryString: request.rawQueryString ?? '',
    headers,
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
