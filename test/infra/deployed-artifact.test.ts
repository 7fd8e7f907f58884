import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { localCredentials, localRegion } from '../../functions/config';
import { reservationKey } from '../../functions/data/items/reservation-item';
import { claimsOf, organizer } from '../support/api';
import type { HttpApiRequest } from '../support/lambda-events';
import { LocalDeployment } from '../support/local-deployment';
import type { CfnTemplate } from '../support/template';
import { synthStampede } from './synth';

/**
 * The artifact that deploys is the artifact tested: the suite's one synth with real bundling
 * (the other infra tests skip it to stay fast), then the template deployed onto DynamoDB
 * Local and this process. Each function is its bundle from cdk.out, configured only by what
 * the template gives it, invoked with the events its trigger sends, and allowed only the
 * DynamoDB calls its role's policy allows. Nothing comes from lib/routes.ts or
 * lib/table-schema.ts: a missing permission or variable, a bundling mistake or a table the
 * code does not match fails here, not after `cdk deploy`.
 */
// Synthesized as the file loads, so the tests below can be listed per function of the template.
const assemblyDir = mkdtempSync(join(tmpdir(), 'stampede-cdk-'));
const { stack, template } = synthStampede({}, { bundle: true, outdir: assemblyDir });
const stampede = new LocalDeployment({
  template: template.toJSON() as CfnTemplate,
  stackName: stack.stackName,
  assemblyDir,
  dynamoDbEndpoint: inject('dynamoDbEndpoint'),
});

beforeAll(() => stampede.createTables());
afterAll(async () => {
  await stampede.destroy();
  rmSync(assemblyDir, { recursive: true, force: true });
});

describe('each function bundle', () => {
  it.each(stampede.functionIds)('%s: one minified CommonJS file with its source map, the SDK included', (functionId) => {
    const dir = stampede.codeDir(functionId);
    expect(readdirSync(dir).sort()).toEqual(['index.js', 'index.js.map']);
    const code = readFileSync(join(dir, 'index.js'), 'utf8');
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.js.map')).toBe(true);
    // Minified: long lines (whitespace and comments gone), not thousands of short ones.
    expect(code.length / code.split('\n').length).toBeGreaterThan(2_000);
    // Everything is bundled, the SDK included (the version in package-lock.json, not the
    // runtime's): the only requires left are Node's own modules and the SDK's optional CRT
    // signer, which it loads inside a try/catch and Stampede never needs.
    const required = new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]!));
    expect([...required].filter((name) => !name.startsWith('node:'))).toEqual(['@aws-sdk/signature-v4-crt']);
    expect(statSync(join(dir, 'index.js')).size).toBeLessThan(1024 * 1024);
    // No sources shipped: the map points at this repository's files instead.
    const map = JSON.parse(readFileSync(join(dir, 'index.js.map'), 'utf8')) as { sources: string[]; sourcesContent?: unknown };
    expect(map.sourcesContent).toBeUndefined();
    expect(map.sources.filter((source) => !existsSync(resolve(dir, source)))).toEqual([]);
  });
});

interface EventBody {
  eventId: string;
  available: number;
}
interface ReservationBody {
  reservationId: string;
  status: string;
}

/** One request through the HTTP API, to the function the template routes it to. */
async function call<Body = Record<string, unknown>>(request: HttpApiRequest) {
  const deniedBefore = stampede.denialMark();
  const response = await stampede.request<Body>(request);
  // A denied DynamoDB call reaches the client as a generic 500: the denial names the missing permission.
  // Only this request's denials: one that failed a test above is not blamed on every later request.
  expect(stampede.deniedSince(deniedBefore), `DynamoDB calls denied by the functions' IAM policies (during ${request.routeKey})`).toEqual([]);
  expect(response.status, `${request.routeKey} answered ${JSON.stringify(response.body)}; the function logged:\n${response.logs}`).toBeLessThan(500);
  return response;
}

describe('the deployed functions', () => {
  let failedAbove = 0;
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      failedAbove++;
    });
  });

  it('serve a reservation from the event to confirm and release, with the events HTTP API sends', async () => {
    // What the JWT authorizer hands the functions for a verified token of each caller.
    const ann = claimsOf({ sub: 'ann' }, 'cognito:groups');
    const bob = claimsOf({ sub: 'bob' }, 'cognito:groups');
    const created = await call<EventBody>({
      routeKey: 'POST /events',
      path: '/events',
      query: 'utm_source=newsletter&tag=a&tag=b',
      headers: [
        ['Content-Type', 'application/json'],
        ['Accept', 'application/json'],
        ['Accept', 'text/plain'],
        ['Cookie', 'session=abc123; theme=dark'],
        ['User-Agent', 'stampede-test/1.0'],
      ],
      body: JSON.stringify({ name: 'Deployed artifact', capacity: 10, shards: 2, maxPerBuyer: 4 }),
      claims: claimsOf(organizer, 'cognito:groups'),
    });
    expect(created).toMatchObject({ status: 201, headers: { 'content-type': 'application/json' }, body: { capacity: 10, shards: 2, available: 10 } });
    const { eventId } = created.body;
    const event = { routeKey: 'GET /events/{eventId}', path: `/events/${eventId}` };

    // A client that labels its JSON as binary: HTTP API hands the function the body base64-encoded.
    const reserveAnn: HttpApiRequest = {
      routeKey: 'POST /events/{eventId}/reservations',
      path: `/events/${eventId}/reservations`,
      headers: [
        ['Content-Type', 'application/octet-stream'],
        ['Idempotency-Key', 'deployed-artifact-ann'],
      ],
      body: JSON.stringify({ quantity: 3 }),
      base64Body: true,
      claims: ann,
    };
    const held = await call<ReservationBody>(reserveAnn);
    expect(held).toMatchObject({ status: 201, body: { eventId, buyerId: 'ann', quantity: 3, status: 'HELD' } });
    const { reservationId } = held.body;
    // The retry of the same request gets the same hold back, not a second one.
    expect(await call(reserveAnn)).toMatchObject({ status: 200, body: { reservationId, status: 'HELD' } });
    const reservation = { routeKey: 'GET /reservations/{reservationId}', path: `/reservations/${reservationId}`, claims: ann };
    expect(await call(reservation)).toMatchObject({ status: 200, body: { reservationId, quantity: 3, status: 'HELD' } });
    const confirm = { routeKey: 'POST /reservations/{reservationId}/confirm', path: `/reservations/${reservationId}/confirm`, claims: ann };
    expect(await call(confirm)).toMatchObject({ status: 200, body: { reservationId, status: 'CONFIRMED' } });

    const heldBob = await call<ReservationBody>({
      ...reserveAnn,
      headers: [
        ['Content-Type', 'application/json'],
        ['Idempotency-Key', 'deployed-artifact-bob'],
      ],
      body: JSON.stringify({ quantity: 2 }),
      base64Body: false,
      claims: bob,
    });
    expect(heldBob).toMatchObject({ status: 201, body: { buyerId: 'bob', quantity: 2, status: 'HELD' } });
    const release = { routeKey: 'DELETE /reservations/{reservationId}', path: `/reservations/${heldBob.body.reservationId}`, claims: bob };
    expect(await call(release)).toMatchObject({ status: 200, body: { status: 'RELEASED' } });

    // 10 tickets: 3 confirmed, 2 held and given back. Read once: the event page may answer from a
    // read up to STAMPEDE_SOLD_OUT_STALENESS_MS (1 s) old, so a second read this soon could be stale.
    expect(await call(event)).toMatchObject({ status: 200, body: { eventId, capacity: 10, available: 7 } });
  });

  it('answer a guarded route without a token as API Gateway does: 401, no function runs', async () => {
    await expect(stampede.request({ routeKey: 'POST /events', path: '/events', body: '{}' })).rejects.toThrow(/guarded by a JWT authorizer.*401/);
  });

  it('return an expired hold to sale from the scheduled sweeper, invoked with the event EventBridge sends', async () => {
    // The template's one schedule runs the sweeper.
    expect(stampede.schedules.map(({ schedule }) => schedule)).toEqual(['rate(1 minute)']);
    const [sweeper] = stampede.schedules;
    const created = await call<EventBody>({
      routeKey: 'POST /events',
      path: '/events',
      headers: [['Content-Type', 'application/json']],
      body: JSON.stringify({ name: 'Swept', capacity: 3, holdSeconds: 30 }),
      claims: claimsOf(organizer, 'cognito:groups'),
    });
    const { eventId } = created.body;
    const reserve = (buyer: string, quantity: number): HttpApiRequest => ({
      routeKey: 'POST /events/{eventId}/reservations',
      path: `/events/${eventId}/reservations`,
      headers: [['Content-Type', 'application/json']],
      body: JSON.stringify({ quantity }),
      claims: claimsOf({ sub: buyer }, 'cognito:groups'),
    });
    const held = await call<ReservationBody>(reserve('cal', 3));
    expect(held).toMatchObject({ status: 201, body: { status: 'HELD' } });
    expect(await call(reserve('dee', 1))).toMatchObject({ status: 409, body: { error: 'sold_out' } });

    // A test shortcut, not an API: a hold lasts at least 30 s, so rather than wait, move this one's
    // expiry and its place in the sweep index (sweepAt) a minute into the past, in the table itself.
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: inject('dynamoDbEndpoint'), region: localRegion, credentials: localCredentials }));
    const past = Date.now() - 60_000;
    try {
      await db.send(
        new UpdateCommand({
          TableName: stampede.tableNames[0],
          Key: reservationKey(held.body.reservationId),
          UpdateExpression: 'SET expiresAt = :past, sweepAt = :past',
          ConditionExpression: '#status = :held',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':past': past, ':held': 'HELD' },
        }),
      );
    } finally {
      db.destroy();
    }

    const deniedBefore = stampede.denialMark();
    const swept = await stampede.runSchedule<Record<string, number>>(sweeper!);
    // Its Query went to the index ARN its role is granted, its writes to the table.
    expect(stampede.deniedSince(deniedBefore), "DynamoDB calls denied by the sweeper's IAM policy").toEqual([]);
    expect(swept.result, swept.logs).toMatchObject({ due: 1, expired: 1, ticketsReturned: 3, repaired: 0 });
    // The first read of this event by the event page's function: no earlier snapshot of it to be stale.
    expect(await call({ routeKey: 'GET /events/{eventId}', path: `/events/${eventId}` })).toMatchObject({ status: 200, body: { available: 3 } });
    const reservation = {
      routeKey: 'GET /reservations/{reservationId}',
      path: `/reservations/${held.body.reservationId}`,
      claims: claimsOf({ sub: 'cal' }, 'cognito:groups'),
    };
    expect(await call(reservation)).toMatchObject({ status: 200, body: { status: 'EXPIRED' } });

    // What it published is what the template's alarm on it reads: namespace, metric and dimensions.
    const alarmed = alarmMetric('OldestDueAge');
    const published = emfDocuments(swept.logs).find((document) => 'OldestDueAge' in document);
    expect(published, swept.logs).toBeDefined();
    const [directive] = published!._aws.CloudWatchMetrics;
    expect(directive!.Namespace).toBe(alarmed.Namespace);
    expect(directive!.Dimensions).toEqual([alarmed.Dimensions.map(({ Name }) => Name)]);
    for (const { Name, Value } of alarmed.Dimensions) expect(published![Name], Name).toBe(Value);
    expect(published!.HoldsExpired).toBe(1);
  });

  it("decide queued requests in arrival order in the stream's consumer, invoked with the records its event source mapping hands it", async () => {
    // The template's one stream mapping feeds the decider: what it reads, with which role, filtered and batched as there.
    expect(stampede.streamMappings).toHaveLength(1);
    const [mapping] = stampede.streamMappings;
    const created = await call<EventBody>({
      routeKey: 'POST /events',
      path: '/events',
      headers: [['Content-Type', 'application/json']],
      body: JSON.stringify({ name: 'Queued', capacity: 3, strategy: 'queued', shards: 1, maxPerBuyer: 2 }),
      claims: claimsOf(organizer, 'cognito:groups'),
    });
    const { eventId } = created.body;
    const reservation = (body: ReservationBody & { buyerId: string }) => ({
      routeKey: 'GET /reservations/{reservationId}',
      path: `/reservations/${body.reservationId}`,
      claims: claimsOf({ sub: body.buyerId }, 'cognito:groups'),
    });
    // Nobody decides while they wait at the door (the mapping is driven by hand below), so each is answered 202.
    const queued: (ReservationBody & { buyerId: string })[] = [];
    for (const [buyer, quantity] of [
      ['eli', 2],
      ['fia', 2],
      ['gil', 1],
    ] as const) {
      const answer = await call<ReservationBody & { buyerId: string }>({
        routeKey: 'POST /events/{eventId}/reservations',
        path: `/events/${eventId}/reservations`,
        headers: [['Content-Type', 'application/json']],
        body: JSON.stringify({ quantity }),
        claims: claimsOf({ sub: buyer }, 'cognito:groups'),
      });
      expect(answer).toMatchObject({ status: 202, body: { status: 'QUEUED', buyerId: buyer } });
      queued.push(answer.body);
    }
    const statuses = async () => Promise.all(queued.map(async (body) => (await call<{ status: string; rejection?: string }>(reservation(body))).body));

    const deniedBefore = stampede.denialMark();
    const delivered = await stampede.deliverStream<DynamoDBBatchResponse>(mapping!);
    expect(stampede.deniedSince(deniedBefore), "DynamoDB calls denied by the decider's IAM policy").toEqual([]);
    // Of everything the table's stream holds (events, reservations, tallies of every test above), the filter kept the three log entries.
    expect(delivered.records.map((record) => [record.eventName, record.dynamodb?.Keys?.pk?.S])).toEqual(Array(3).fill(['INSERT', `QUEUE#${eventId}#0`]));
    expect(delivered.invocations.map(({ result, logs }) => [result, logs])).toEqual([[{ batchItemFailures: [] }, expect.any(String)]]);
    // In arrival order: eli's 2 fit, fia's 2 do not (1 left), gil's 1 does.
    expect(await statuses()).toMatchObject([{ status: 'HELD' }, { status: 'REJECTED', rejection: 'sold_out' }, { status: 'HELD' }]);
    expect(await call({ routeKey: 'GET /events/{eventId}', path: `/events/${eventId}` })).toMatchObject({ status: 200, body: { available: 0 } });

    // What it published is what the dashboard graphs: namespace, metric and dimensions.
    const [logs] = delivered.invocations.map((invocation) => invocation.logs);
    const published = emfDocuments(logs!).find((document) => 'QueueHeld' in document);
    expect(published, logs).toMatchObject({ QueueHeld: 2, QueueRejected: 1 });
    for (const metricName of ['QueueHeld', 'QueueRejected']) {
      const graphed = dashboardMetric(metricName);
      const [directive] = published!._aws.CloudWatchMetrics;
      expect(directive!.Namespace).toBe(graphed.Namespace);
      expect(directive!.Dimensions).toEqual([graphed.Dimensions.map(({ Name }) => Name)]);
      for (const { Name, Value } of graphed.Dimensions) expect(published![Name], Name).toBe(Value);
    }

    // Every record delivered again, as a mapping started anew from the oldest record would: nothing is decided twice.
    const again = await stampede.deliverStream<DynamoDBBatchResponse>(mapping!, { fromOldest: true });
    expect(stampede.deniedSince(deniedBefore)).toEqual([]);
    expect(again.records).toHaveLength(3);
    expect(again.invocations.map(({ result }) => result)).toEqual([{ batchItemFailures: [] }]);
    expect(emfDocuments(again.invocations[0]!.logs).find((document) => 'QueueHeld' in document)).toMatchObject({ QueueHeld: 0, QueueRejected: 0 });
    expect(await statuses()).toMatchObject([{ status: 'HELD' }, { status: 'REJECTED' }, { status: 'HELD' }]);
  });

  // A function with another trigger gets its own test above, invoking it with
  // `stampede.invoke(functionId, event)` and an event builder from test/support/lambda-events.ts;
  // until it has one, this fails.
  it('include every function of the template, none denied a DynamoDB call', ({ skip }) => {
    skip(failedAbove > 0, 'a test above failed before reaching every function');
    expect(
      stampede.functionIds.filter((functionId) => !stampede.invoked.has(functionId)),
      'functions of the template no test invokes',
    ).toEqual([]);
    expect(stampede.denials).toEqual([]);
  });
});

interface MetricOfTemplate {
  readonly Namespace: string;
  readonly MetricName: string;
  readonly Dimensions: readonly { readonly Name: string; readonly Value: string }[];
}

/** The metric the template's one alarm on `metricName` reads. */
function alarmMetric(metricName: string): MetricOfTemplate {
  const metrics = stampede.template
    .idsOfType('AWS::CloudWatch::Alarm')
    .flatMap((id) =>
      ((stampede.template.property(id, 'Metrics') ?? []) as { MetricStat?: { Metric: MetricOfTemplate } }[]).map((metric) => metric.MetricStat?.Metric),
    )
    .filter((metric) => metric?.MetricName === metricName);
  expect(metrics, `alarms on ${metricName}`).toHaveLength(1);
  return metrics[0]!;
}

/** The metric the template's dashboard graphs as `metricName` (exactly one graph line of it). */
function dashboardMetric(metricName: string): MetricOfTemplate {
  const [dashboardId] = stampede.template.idsOfType('AWS::CloudWatch::Dashboard');
  const body = JSON.parse(stampede.template.property(dashboardId!, 'DashboardBody') as string) as {
    widgets: { properties: { metrics?: unknown[][] } }[];
  };
  const lines = body.widgets.flatMap((widget) => widget.properties.metrics ?? []).filter((line) => line[1] === metricName);
  expect(lines, `graph lines of ${metricName}`).toHaveLength(1);
  // [namespace, metric name, dimension name, value, ..., options]
  const [namespace, , ...rest] = lines[0]!;
  const pairs = rest.slice(0, -1) as string[];
  const Dimensions = pairs.flatMap((name, index) => (index % 2 === 0 ? [{ Name: name, Value: pairs[index + 1]! }] : []));
  return { Namespace: namespace as string, MetricName: metricName, Dimensions };
}

interface EmfDocument extends Record<string, unknown> {
  readonly _aws: { readonly CloudWatchMetrics: readonly { readonly Namespace: string; readonly Dimensions: string[][] }[] };
}

/** The CloudWatch embedded-metric-format documents among a function's log lines. */
function emfDocuments(logs: string): EmfDocument[] {
  return logs
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfDocument);
}
