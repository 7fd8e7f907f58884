import { randomBytes, randomUUID } from 'node:crypto';
import type { _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent, ScheduledEvent } from 'aws-lambda';
import type { HttpApiEvent } from '../../functions/http/request';

/**
 * The events AWS services send to Lambda, built the way the service builds them, so a test
 * invokes a function with what it gets in production. One builder per trigger.
 */

/** A request as a client sends it to the HTTP API. */
export interface HttpApiRequest {
  /** The route that matched, as the template names it, e.g. `POST /events/{eventId}/reservations`. */
  readonly routeKey: string;
  /** The path as sent, e.g. `/events/abc/reservations`: the path parameters are read from it. */
  readonly path: string;
  /** The query string as sent, without the `?`. */
  readonly query?: string;
  /** In the order sent, names in any case; a name may repeat. `Cookie` headers become the event's `cookies`. */
  readonly headers?: readonly (readonly [name: string, value: string])[];
  readonly body?: string;
  /** HTTP API base64-encodes a body it does not take for text (a binary or unknown content type). */
  readonly base64Body?: boolean;
  readonly sourceIp?: string;
  /**
   * The verified token's claims, which API Gateway's JWT authorizer passes on routes it guards
   * (as strings, an array claim as `"[a b]"`): build them with `claimsOf` (test/support/api.ts).
   */
  readonly claims?: Readonly<Record<string, string>>;
}

export interface HttpApiStage {
  readonly apiId: string;
  readonly accountId: string;
  readonly region: string;
}

/**
 * The event an HTTP API (payload format 2.0) sends its Lambda integration: header names
 * lowercased, repeated headers and query parameters comma-joined, cookies in their own list.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
export function httpApiEvent(request: HttpApiRequest, stage: HttpApiStage): HttpApiEvent {
  const [method, routePath] = request.routeKey.split(' ') as [string, string | undefined];
  const domainName = `${stage.apiId}.execute-api.${stage.region}.amazonaws.com`;
  const sourceIp = request.sourceIp ?? '198.51.100.7';
  const now = new Date();

  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const addHeader = (name: string, value: string) => {
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]},${value}` : value;
  };
  for (const [name, value] of request.headers ?? []) {
    if (name.toLowerCase() === 'cookie') cookies.push(...value.split(/;\s*/));
    else addHeader(name, value);
  }
  // What API Gateway itself adds on the way to the function.
  addHeader('host', domainName);
  addHeader('x-amzn-trace-id', `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`);
  addHeader('x-forwarded-for', sourceIp);
  addHeader('x-forwarded-port', '443');
  addHeader('x-forwarded-proto', 'https');
  if (request.body !== undefined) addHeader('content-length', String(Buffer.byteLength(request.body)));

  const queryStringParameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(request.query ?? '')) {
    queryStringParameters[name] = name in queryStringParameters ? `${queryStringParameters[name]},${value}` : value;
  }
  const pathParameters = routePath === undefined ? {} : pathParametersOf(routePath, request.path);

  return {
    version: '2.0',
    routeKey: request.routeKey,
    rawPath: request.path,
    rawQueryString: request.query ?? '',
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(Object.keys(queryStringParameters).length > 0 && { queryStringParameters }),
    ...(Object.keys(pathParameters).length > 0 && { pathParameters }),
    requestContext: {
      accountId: stage.accountId,
      apiId: stage.apiId,
      domainName,
      domainPrefix: stage.apiId,
      http: { method, path: request.path, protocol: 'HTTP/1.1', sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: randomBytes(10).toString('base64'),
      routeKey: request.routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
      ...(request.claims && { authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: { ...request.claims }, scopes: null } } }),
    },
    ...(request.body !== undefined && {
      body: request.base64Body ? Buffer.from(request.body).toString('base64') : request.body,
    }),
    isBase64Encoded: request.base64Body ?? false,
  };
}

/** `{eventId}` segments of the route's path, read from the path sent; `{proxy+}` takes the rest. */
function pathParametersOf(routePath: string, path: string): Record<string, string> {
  const routeSegments = routePath.split('/');
  const segments = path.split('/');
  const parameters: Record<string, string> = {};
  for (const [index, routeSegment] of routeSegments.entries()) {
    const name = routeSegment.match(/^\{(.+?)(\+?)\}$/);
    if (name?.[2]) {
      parameters[name[1]!] = decodeURIComponent(segments.slice(index).join('/'));
      return parameters;
    }
    if (name) parameters[name[1]!] = decodeURIComponent(segments[index] ?? '');
    else if (routeSegment !== segments[index]) throw new Error(`${path} does not match the route ${routePath}.`);
  }
  if (segments.length !== routeSegments.length) throw new Error(`${path} does not match the route ${routePath}.`);
  return parameters;
}

/** API Gateway's `requestContext.time`: `12/Mar/2020:19:03:58 +0000`. */
function clfTime(date: Date): string {
  const [, day, month, year, time] = date.toUTCString().match(/^\w+, (\d+) (\w+) (\d+) ([\d:]+)/)!;
  return `${day}/${month}/${year}:${time} +0000`;
}

/**
 * What an EventBridge rule with a schedule sends its Lambda target: a "Scheduled Event" from
 * `aws.events`, naming the rule, at the time it fired (whole seconds).
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
 */
export function scheduledEvent(ruleArn: string, time: Date = new Date()): ScheduledEvent {
  const [, , , region, account] = ruleArn.split(':');
  if (!ruleArn.startsWith('arn:') || !region || !account) throw new Error(`${ruleArn} is not a rule ARN (arn:aws:events:<region>:<account>:rule/<name>).`);
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [ruleArn],
    detail: {},
  };
}

/**
 * A record of a DynamoDB stream (as DynamoDB Streams' GetRecords answers it) as Lambda hands it to
 * a function: the stream's ARN and Region on it, the change's time in epoch seconds.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
 */
export function dynamoDbStreamRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const [, , , region] = streamArn.split(':');
  if (!streamArn.startsWith('arn:') || !region || !streamArn.includes('/stream/')) {
    throw new Error(`${streamArn} is not a stream ARN (arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>).`);
  }
  const change = record.dynamodb ?? {};
  type Image = NonNullable<DynamoDBRecord['dynamodb']>['Keys'];
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ...(change.ApproximateCreationDateTime && { ApproximateCreationDateTime: Math.floor(change.ApproximateCreationDateTime.getTime() / 1000) }),
      Keys: change.Keys as Image,
      ...(change.NewImage && { NewImage: change.NewImage as Image }),
      ...(change.OldImage && { OldImage: change.OldImage as Image }),
      SequenceNumber: change.SequenceNumber,
      SizeBytes: change.SizeBytes,
      StreamViewType: change.StreamViewType,
    },
    eventSourceARN: streamArn,
  };
}

/** What an event source mapping on a DynamoDB stream invokes its function with: one batch of records, oldest first. */
export function dynamoDbStreamEvent(records: readonly DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: [...records] };
}
