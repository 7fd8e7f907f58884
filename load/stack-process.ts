/**
 * The local stack as a child process of the rush, so the rush can read the API's and DynamoDB
 * Local's CPU time from /proc separately from its own and Artillery's. Started by load/rush.ts
 * with an IPC channel: it answers with where it runs (and metering on, see CapacityMeter), and
 * stops DynamoDB Local and exits when the channel closes (the rush ended, or died).
 */
import type { JWK } from 'jose';
import { sweeperJob } from '../lib/jobs';
import { startLocalStack } from '../local/local-stack';

export interface StackReady {
  readonly kind: 'ready';
  readonly url: string;
  readonly dynamoDbEndpoint: string;
  readonly dynamoDbPid?: number;
  readonly tableName: string;
  readonly pid: number;
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  const tableName = process.env.TABLE_NAME ?? 'stampede-rush';
  const stack = await startLocalStack({
    port: 0,
    tableName,
    dynamoDbEndpoint: process.env.DYNAMODB_ENDPOINT || undefined,
    meterCapacity: true,
    // Walkaways' holds come back during the rush, as on AWS (where the sweeper runs every minute).
    sweepIntervalMs: Number(process.env.STAMPEDE_SWEEP_INTERVAL_MS ?? sweeperJob.locallyEveryMs),
    // The rush mints its buyers' tokens with this key itself: no request per token.
    issuerKey: process.env.STAMPEDE_LOCAL_ISSUER_KEY ? (JSON.parse(process.env.STAMPEDE_LOCAL_ISSUER_KEY) as JWK) : undefined,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(0);
  };
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const ready: StackReady = {
    kind: 'ready',
    url: stack.url,
    dynamoDbEndpoint: stack.dynamoDbEndpoint,
    dynamoDbPid: stack.dynamoDbPid,
    tableName,
    pid: process.pid,
  };
  process.send?.(ready);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
