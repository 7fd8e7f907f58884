/**
 * `npm run audit -- --event <eventId>`: recompute an event's books from the table and check
 * that nothing was oversold, lost or double-held, and no buyer is over the limit.
 * Exits 1 on any violation.
 *
 * Which table: by default the one a running `npm start` announced in .stampede/local-stack.json;
 * `--endpoint`/`--table` (or DYNAMODB_ENDPOINT/TABLE_NAME) point elsewhere. With `--table`
 * and no endpoint it reads the deployed table on AWS with your credentials.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type AuditReport, auditEvent, processLimits } from '../functions/audit/audit-event';
import { loadConfig } from '../functions/config';
import { createDocumentClient } from '../functions/data/dynamodb-client';
import { sweepPeriodMs } from '../lib/jobs';
import { type LocalStackDescriptor, localStackFile } from '../local/local-stack';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      event: { type: 'string' },
      endpoint: { type: 'string' },
      table: { type: 'string' },
      json: { type: 'boolean', default: false },
      'sweep-interval-ms': { type: 'string' },
    },
  });
  if (!values.event) {
    console.error('Usage: npm run audit -- --event <eventId> [--endpoint <url>] [--table <name>] [--sweep-interval-ms <ms>] [--json]');
    return 2;
  }
  const local = existsSync(localStackFile) ? (JSON.parse(readFileSync(localStackFile, 'utf8')) as LocalStackDescriptor) : undefined;
  const tableName = values.table ?? process.env.TABLE_NAME ?? local?.tableName;
  const endpoint = values.endpoint ?? process.env.DYNAMODB_ENDPOINT ?? (values.table ? undefined : local?.dynamoDbEndpoint);
  if (!tableName) {
    console.error('No table: start the local stack with `npm start`, or pass --table (and --endpoint for a local DynamoDB).');
    return 2;
  }
  const config = loadConfig({ ...process.env, TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint });
  // Expired holds must be back within two sweeps: every minute on AWS, more often under `npm start`.
  const sweepIntervalMs = Number(values['sweep-interval-ms'] ?? sweepPeriodMs(endpoint ? 'local' : 'aws'));
  if (!(sweepIntervalMs > 0)) {
    console.error(`--sweep-interval-ms must be a positive number of milliseconds, got '${values['sweep-interval-ms']}'.`);
    return 2;
  }
  // The limits the API runs with come from the same variables (STAMPEDE_HOLD_BUDGET_MS, ...), defaults included.
  const report = await auditEvent(createDocumentClient(config), tableName, values.event, Date.now(), { sweepIntervalMs, ...processLimits(config) });
  console.log(values.json ? JSON.stringify(report, null, 2) : describe(report));
  return report.violations.length === 0 ? 0 : 1;
}

function describe(report: AuditReport): string {
  const lines = [
    `Event ${report.eventId} (${report.strategy}), capacity ${report.capacity}`,
    `  remaining ${report.remaining}, held ${report.held} (${report.heldExpired} expired, not yet returned), confirmed ${report.confirmed}`,
    `  sold ${report.sold}, oversold ${report.oversold}, never existed ${report.inflated}, lost ${report.lost}; returned by release ${report.released}, by expiry ${report.expired}`,
    `  ${report.reservations} reservation(s), ${report.buyers} buyer(s), ${report.buyersOverLimit} over the limit, ${report.doubleHolds} double hold(s), ${report.pending} interrupted and not repaired, ${report.unsweptExpired} expired and not swept`,
  ];
  if (report.violations.length === 0) lines.push('OK: no violations.');
  else lines.push(`${report.violations.length} VIOLATION(S):`, ...report.violations.map((v) => `  [${v.kind}] ${v.message}`));
  return lines.join('\n');
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
