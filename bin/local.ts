/**
 * `npm start`: Stampede on this machine. Starts DynamoDB Local (or uses DYNAMODB_ENDPOINT),
 * creates the table and serves the API on http://127.0.0.1:3000 (PORT overrides) through
 * the same Lambda handlers the CDK stack deploys, behind a local stand-in for API Gateway and
 * its JWT authorizer, with a local token issuer.
 */
import { sweeperJob } from '../lib/jobs';
import { startLocalStack } from '../local/local-stack';

// Lambda runs Node.js 22; the SDK's reminder that Node 20 support ends is noise locally.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The banner's sample tokens last a working day; `npm run token` makes more. */
const sampleTokenSeconds = 12 * 3_600;

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number, got '${process.env.PORT}'`);
  const stack = await startLocalStack({
    port,
    tableName: process.env.TABLE_NAME ?? 'stampede-local',
    dynamoDbEndpoint: process.env.DYNAMODB_ENDPOINT || undefined,
    announce: true,
    sweepIntervalMs: sweepInterval(),
  });
  const { url, issuer } = stack;
  const organizer = await issuer.mint({ sub: 'olivia', groups: ['organizers'], expiresInSeconds: sampleTokenSeconds });
  const buyer = await issuer.mint({ sub: 'alice', expiresInSeconds: sampleTokenSeconds });
  console.log(`Stampede is running at ${url}  (DynamoDB: ${stack.dynamoDbEndpoint})

Tokens to try it with (12 h; more: npm run token -- --sub <name> [--group organizers]):
  export ORGANIZER='${organizer}'
  export ALICE='${buyer}'

Try it:
  curl -s -X POST ${url}/events -H "authorization: Bearer $ORGANIZER" -H 'content-type: application/json' -d '{"name":"Flash sale","capacity":100}'
  curl -s -X POST ${url}/events/<eventId>/reservations -H "authorization: Bearer $ALICE" -H 'content-type: application/json' -H 'Idempotency-Key: my-first-try' -d '{"quantity":2}'
  curl -s -X POST ${url}/reservations/<reservationId>/confirm -H "authorization: Bearer $ALICE"

API reference: ${url}/openapi.json. Press Ctrl+C to stop.`);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/** STAMPEDE_SWEEP_INTERVAL_MS: how often expired holds come back; sweeperJob.locallyEveryMs unless set. */
function sweepInterval(): number {
  const value = Number(process.env.STAMPEDE_SWEEP_INTERVAL_MS ?? sweeperJob.locallyEveryMs);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`STAMPEDE_SWEEP_INTERVAL_MS must be a positive whole number of ms, got '${process.env.STAMPEDE_SWEEP_INTERVAL_MS}'`);
  return value;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
