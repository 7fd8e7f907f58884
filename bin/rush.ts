/**
 * `npm run rush`: the flash sale under load. Starts the local stack (DynamoDB Local + the
 * API, as a child process) unless --target is given, creates an event, sends Artillery's
 * buyers at it (load/rush.yml), audits the event and prints what happened.
 * Exits 1 on an audit violation (except for the `unsafe` control, whose oversell is the
 * point) or a failed Artillery `ensure` check; 2 on bad usage.
 *
 *   npm run rush                                         100,000 buyers, 10,000 tickets, sharded
 *   npm run rush -- --buyers 2000 --tickets 200 --strategy transactional
 *   npm run rush -- --target https://abc.execute-api.eu-west-1.amazonaws.com --load-test-key .stampede/load-test-issuer/private.jwk.json --table <TableName>
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultShardCount, strategies } from '../functions/domain/model';
import { defaultOutputDir, readRushFlags, readStrategy, rushDefaults, rushFlagSpecs, UsageError } from '../load/cli-options';
import { runRush } from '../load/rush';
import { formatSummary, rushExitCode } from '../load/summary';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const usage = `Usage: npm run rush -- [--buyers ${rushDefaults.buyers}] [--tickets ${rushDefaults.tickets}] [--strategy ${strategies.join('|')}]
       [--shards ${defaultShardCount}] [--arrival-rate ${rushDefaults.arrivalRate}] [--raw-seconds ${rushDefaults.rawSeconds}] [--warm-up-seconds ${rushDefaults.warmUpSeconds}] [--hold-seconds ${rushDefaults.holdSeconds}] [--artillery-nice ${rushDefaults.artilleryNice}] [--output <dir>]
       [--target <api url> --load-test-key <private.jwk.json> [--table <table name> [--endpoint <dynamodb url>]]]`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      ...rushFlagSpecs,
      strategy: { type: 'string' },
      target: { type: 'string' },
      'load-test-key': { type: 'string' },
      table: { type: 'string' },
      endpoint: { type: 'string' },
      output: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const flags = readRushFlags(values);
  const strategy = readStrategy(values.strategy);
  const outputDir = values.output ? resolve(values.output) : defaultOutputDir(resolve(__dirname, '..'), strategy);
  const result = await runRush({
    ...flags,
    strategy,
    target: values.target?.replace(/\/+$/, ''),
    loadTestKey: values['load-test-key'],
    auditTable: values.table,
    auditEndpoint: values.endpoint,
    outputDir,
    log: (line) => console.log(line),
  });
  console.log(`\n${formatSummary(result)}`);
  console.log(`\nDetails (result.json, artillery.json, logs): ${outputDir}`);
  return rushExitCode(result);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error(`${(error as Error).message}\n${usage}`);
      process.exit(2);
    }
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);
