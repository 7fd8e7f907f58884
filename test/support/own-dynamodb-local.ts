import { afterAll, beforeAll } from 'vitest';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../local/dynamodb-local';
import { ensureLocalTable } from '../../local/local-table';
import { testTableName } from './global-setup';

/**
 * A DynamoDB Local of the test file's own, with the test table, for the heaviest race files.
 * Measured: late in a full run the shared DynamoDB Local answered these races several times
 * slower than a fresh one, enough to time tests out. The cause, measured since: DynamoDB Local
 * 1.11.478 slows every write to a table with a stream once the instance has stream history, even
 * on a new table (see bin/bench.ts), and the test table has the stream the `queued` strategy
 * reads. A fresh JVM costs a few seconds. Returns the endpoint to give the app (`config.endpoint`), once started.
 */
export function ownDynamoDbLocal(): () => string {
  let local: DynamoDbLocal | undefined;
  beforeAll(async () => {
    local = await startDynamoDbLocal();
    await ensureLocalTable(local.endpoint, testTableName);
  }, 60_000);
  afterAll(async () => {
    await local?.stop();
  });
  return () => {
    if (!local) throw new Error('ownDynamoDbLocal(): DynamoDB Local has not started yet (use it inside a test).');
    return local.endpoint;
  };
}
