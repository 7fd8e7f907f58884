import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, resolve } from 'node:path';
import type { ScheduledEvent } from 'aws-lambda';
import type { JWK } from 'jose';
import type { App } from '../functions/app';
import { queueDeciderJob, sweeperJob } from '../lib/jobs';
import { buildOpenApi } from '../lib/openapi';
import { routes } from '../lib/routes';
import { CapacityMeter } from './capacity-meter';
import { type DevelopmentRouteSources, developmentRoutes } from './development-routes';
import { type DynamoDbLocal, freePort, startDynamoDbLocal } from './dynamodb-local';
import { createLocalApi, listen, loadRouteHandlers } from './http-server';
import { JwtAuthorizer } from './jwt-authorizer';
import { localAudience, TokenIssuer } from './jwt-issuer';
import { ensureLocalTable } from './local-table';
import { startRepeatingJob } from './repeating-job';
import { type StreamPoller, type StreamPollerOptions, startStreamPoller } from './stream-poller';

export interface LocalStackOptions {
  /** API port; 0 picks a free one. */
  readonly port: number;
  readonly tableName: string;
  /** Use this DynamoDB instead of starting DynamoDB Local. */
  readonly dynamoDbEndpoint?: string;
  /** Write where the stack runs to `.stampede/local-stack.json`, for `npm run audit` and the rush. */
  readonly announce?: boolean;
  /**
   * Meter DynamoDB calls per operation, partition key and API answer, served at
   * `GET /_local/capacity` (see CapacityMeter); `POST /_local/reset` zeroes it and the telemetry.
   * @default false
   */
  readonly meterCapacity?: boolean;
  /**
   * The local issuer's signing key (a private RSA JWK), so a load test can mint tokens the
   * server trusts without asking it for each. @default a key pair made at start
   */
  readonly issuerKey?: JWK;
  /**
   * Run the sweeper (functions/handlers/sweep-holds.ts, the handler the schedule invokes on AWS)
   * this often; 0 turns it off. @default 0: `npm start` passes STAMPEDE_SWEEP_INTERVAL_MS
   * (default sweeperJob.locallyEveryMs)
   */
  readonly sweepIntervalMs?: number;
  /**
   * Decide `queued` events' requests: poll the table's stream and call the consumer
   * (functions/handlers/decide-queued.ts), as the event source mapping does on AWS. @default true
   */
  readonly decideQueued?: boolean;
}

/** Where a running `npm start` says it is. */
export const localStackFile = resolve(__dirname, '..', '.stampede', 'local-stack.json');

export interface LocalStackDescriptor {
  readonly url: string;
  readonly dynamoDbEndpoint: string;
  readonly tableName: string;
  readonly pid: number;
}

export interface LocalStack {
  readonly url: string;
  /** Mints the tokens this stack's stand-in for API Gateway trusts. */
  readonly issuer: TokenIssuer;
  readonly dynamoDbEndpoint: string;
  /** The DynamoDB Local JVM's process id, when this stack started it. */
  readonly dynamoDbPid?: number;
  stop(): Promise<void>;
}

/**
 * DynamoDB Local (unless an endpoint is given) + the table + the API serving every route of
 * the route table through its real handler module. Used by `npm start`, the tests and the rush.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const dynamo: DynamoDbLocal | undefined = options.dynamoDbEndpoint ? undefined : await startDynamoDbLocal();
  const endpoint = options.dynamoDbEndpoint ?? dynamo!.endpoint;
  let server: Server | undefined;
  try {
    await ensureLocalTable(endpoint, options.tableName);
    // The handlers read their configuration once, when their modules load: set it first.
    process.env.DYNAMODB_ENDPOINT = endpoint;
    process.env.TABLE_NAME = options.tableName;
    const handlers = await loadRouteHandlers(routes);
    // Loaded after the environment is set, like the handlers.
    const { defaultApp } = await import('../functions/app.js');
    const app = defaultApp();
    const telemetry = app.telemetry as { snapshot?: () => unknown; reset?: () => void };
    const meter = options.meterCapacity ? new CapacityMeter() : undefined;
    meter?.install(app.db);
    const sweeper = options.sweepIntervalMs ? await loadJob<SweepHandler>(sweeperJob.entry, meter) : undefined;
    // The issuer is the server itself (its discovery document and keys are served here), so its
    // URL, and so the port, is known before the first token is minted.
    const port = options.port || (await freePort());
    const url = `http://127.0.0.1:${port}`;
    const issuer = await TokenIssuer.create({ issuer: url, audience: localAudience, groupsClaim: app.config.groupsClaim }, options.issuerKey);
    server = createLocalApi(routes, handlers, {
      localRoutes: developmentRoutes({
        openApi: buildOpenApi(),
        issuer,
        telemetry,
        sweeps: (sweeper?.app ?? app).sweepMetrics as DevelopmentRouteSources['sweeps'],
        meter,
      }),
      observe: meter && ((route, handle) => meter.observe(route.id, handle)),
      authorizer: new JwtAuthorizer({ issuer: url, audiences: [localAudience], jwks: issuer.jwks() }),
      log: app.log,
    });
    await listen(server, port);
    const running = server;
    // On AWS no scheduled run is skipped and a slow one may overlap the next (lib/constructs/stampede-job.ts);
    // here a tick during a sweep runs right after it (see startRepeatingJob).
    const sweeping =
      sweeper &&
      startRepeatingJob(
        () => sweeper.handler(scheduledEvent()),
        options.sweepIntervalMs!,
        (error) => sweeper.app.log.error('Sweep failed', { error }),
      );
    const decider = options.decideQueued === false ? undefined : await startQueueDecider(endpoint, options.tableName, meter);
    if (options.announce) {
      const descriptor: LocalStackDescriptor = { url, dynamoDbEndpoint: endpoint, tableName: options.tableName, pid: process.pid };
      mkdirSync(dirname(localStackFile), { recursive: true });
      writeFileSync(localStackFile, `${JSON.stringify(descriptor, null, 2)}\n`);
    }
    return {
      url,
      issuer,
      dynamoDbEndpoint: endpoint,
      dynamoDbPid: dynamo?.pid,
      stop: async () => {
        await sweeping?.stop();
        await decider?.stop();
        if (options.announce) rmSync(localStackFile, { force: true });
        running.closeAllConnections();
        await new Promise<void>((resolve) => running.close(() => resolve()));
        await dynamo?.stop();
      },
    };
  } catch (error) {
    server?.close();
    await dynamo?.stop();
    throw error;
  }
}

type SweepHandler = (event: ScheduledEvent) => Promise<unknown>;

/**
 * A job's handler module (lib/jobs.ts) as its own function runs it on AWS: built by the module's
 * createHandler with an app of its own (DynamoDB client, connections, call limiter), not the API's.
 * Sharing the API's, the sweeper's calls waited behind the buyers' in a rush: a sweep with 9 holds
 * due took 5 s. Metered like the API's calls when the stack meters.
 */
async function loadJob<Handler>(entry: string, meter: CapacityMeter | undefined): Promise<{ app: App; handler: Handler }> {
  const { createHandler } = (await import(resolve(__dirname, '..', entry))) as { createHandler: (app: App) => Handler };
  const { createApp } = await import('../functions/app.js');
  const { loadConfig } = await import('../functions/config.js');
  const app = createApp({ config: loadConfig() });
  meter?.install(app.db);
  return { app, handler: createHandler(app) };
}

/** The stream consumer of `queued` events: the handler the event source mapping invokes on AWS (its own app, see loadJob), fed by a poller. */
async function startQueueDecider(endpoint: string, tableName: string, meter: CapacityMeter | undefined): Promise<StreamPoller> {
  const { app, handler } = await loadJob<StreamPollerOptions['handler']>(queueDeciderJob.entry, meter);
  const { filter, batchSize, maxRetries } = queueDeciderJob;
  return startStreamPoller({ endpoint, tableName, filter, batchSize, maxRetries, handler, log: app.log });
}

/** What EventBridge sends a scheduled function. */
function scheduledEvent(): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:000000000000:rule/local-sweeper'],
    detail: {},
  };
}
