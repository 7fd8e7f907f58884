import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { ensureLocalTable } from '../../local/local-table';

export const testTableName = 'stampede-test';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
  }
}

/** Starts DynamoDB Local for the test run; no manual step, no fixed port. */
export default async function setup(project: TestProject) {
  const dynamo = await startDynamoDbLocal();
  await ensureLocalTable(dynamo.endpoint, testTableName);
  project.provide('dynamoDbEndpoint', dynamo.endpoint);
  return async () => {
    await dynamo.stop();
  };
}
