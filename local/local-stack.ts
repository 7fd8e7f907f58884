import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, resolve } from 'node:path';
import { json } from '../functions/http/responses';
import { buildOpenApi } from '../lib/openapi';
import { routes } from '../lib/routes';
import { CapacityMeter } from './capacity-meter';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local';
import { createLocalApi, type LocalRoute, listen, loadRouteHandlers } from './http-server';
import { ensureLocalTable } from './local-table';

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
    const telemetry = defaultApp().telemetry as { snapshot?: () => unknown; reset?: () => void };
    const meter = options.meterCapacity ? new CapacityMeter() : undefined;
    meter?.install(defaultApp().db);
    const openApi = buildOpenApi();
    const localRoutes: Record<string, LocalRoute> = {
      'GET /openapi.json': () => json(200, openApi),
      'GET /_local/telemetry': () => json(200, telemetry.snapshot?.() ?? {}),
    };
    if (meter) {
      localRoutes['GET /_local/capacity'] = () => json(200, meter.snapshot());
      localRoutes['POST /_local/reset'] = () => {
        meter.reset();
        telemetry.reset?.();
        return json(200, { reset: true });
      };
      localRoutes['POST /_local/meter/pause'] = () => {
        meter.pause();
        return json(200, { metering: false });
      };
      localRoutes['POST /_local/meter/resume'] = () => {
        meter.resume();
        return json(200, { metering: true });
      };
    }
    server = createLocalApi(routes, handlers, {
      localRoutes,
      observe: meter && ((route, handle) => meter.observe(route.id, handle)),
      log: defaultApp().log,
    });
    const port = await listen(server, options.port);
    const running = server;
    const url = `http://127.0.0.1:${port}`;
    if (options.announce) {
      const descriptor: LocalStackDescriptor = { url, dynamoDbEndpoint: endpoint, tableName: options.tableName, pid: process.pid };
      mkdirSync(dirname(localStackFile), { recursive: true });
      writeFileSync(localStackFile, `${JSON.stringify(descriptor, null, 2)}\n`);
    }
    return {
      url,
      dynamoDbEndpoint: endpoint,
      dynamoDbPid: dynamo?.pid,
      stop: async () => {
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
