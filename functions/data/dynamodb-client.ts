import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { localCredentials, type StampedeConfig } from '../config';
import { ConcurrencyLimiter } from '../domain/concurrency-limiter';

/**
 * One DynamoDB client per process, built at cold start and reused by every invocation
 * (connection reuse matters more than anything else for Lambda latency).
 */
export function createDocumentClient(config: StampedeConfig): DynamoDBDocumentClient {
  const agentOptions = { keepAlive: true, maxSockets: config.maxSockets };
  const client = new DynamoDBClient({
    region: config.region,
    endpoint: config.endpoint,
    // DynamoDB Local accepts any credentials but keys its tables by them: use fixed ones.
    credentials: config.endpoint ? localCredentials : undefined,
    requestHandler: new NodeHttpHandler({
      httpAgent: new Agent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
      connectionTimeout: 1_000,
      requestTimeout: 5_000,
    }),
  });
  // The SDK's logger middleware builds a filtered copy of every input and output for its
  // logger even when that logger discards it (a few % of the CPU per call). We log our own
  // errors instead, so drop it.
  client.middlewareStack.remove('loggerMiddleware');
  const limiter = new ConcurrencyLimiter(config.maxSockets);
  client.middlewareStack.add((next) => (args) => limiter.run(() => next(args)), {
    step: 'initialize',
    name: 'stampedeConcurrencyLimit',
    priority: 'high',
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
