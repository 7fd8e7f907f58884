import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deployment, type PolicyStatement } from './template';

/** One IAM action on one resource: what IAM checks for a request. */
export interface Permission {
  readonly action: string;
  readonly resource: string;
}

/** The parts of a DynamoDB request body that name what it touches. */
interface DynamoDbRequest {
  readonly TableName?: string;
  readonly IndexName?: string;
  readonly RequestItems?: Readonly<Record<string, unknown>>;
  readonly TransactItems?: readonly Readonly<Record<string, { readonly TableName: string }>>[];
}

/**
 * Transactions have no IAM action of their own: each item needs the action of its kind.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
 */
const transactionItemActions: Readonly<Record<string, string>> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

const tableArn = (table: string) => (table.startsWith('arn:') ? table : `arn:aws:dynamodb:${deployment.region}:${deployment.accountId}:table/${table}`);

/** What IAM checks for one DynamoDB API call (`operation` as in `X-Amz-Target: DynamoDB_20120810.<operation>`). */
function requiredPermissions(operation: string, body: DynamoDbRequest): Permission[] {
  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys(body.RequestItems ?? {}).map((table) => ({ action: `dynamodb:${operation}`, resource: tableArn(table) }));
    case 'TransactGetItems':
    case 'TransactWriteItems':
      return (body.TransactItems ?? []).map((item) => {
        const [kind, target] = Object.entries(item)[0]!;
        const action = transactionItemActions[kind];
        if (!action) throw new Error(`${operation}: no IAM action known for a '${kind}' item.`);
        return { action, resource: tableArn(target.TableName) };
      });
    default: {
      // One table (GetItem, PutItem, UpdateItem, DeleteItem, DescribeTable...) or, for Query and Scan, maybe one of its indexes.
      if (body.TableName === undefined) return [{ action: `dynamodb:${operation}`, resource: '*' }];
      const index = body.IndexName === undefined ? '' : `/index/${body.IndexName}`;
      return [{ action: `dynamodb:${operation}`, resource: tableArn(body.TableName) + index }];
    }
  }
}

/** IAM's `*` and `?` wildcards; actions are case-insensitive, resources are not. */
function wildcardMatches(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

export function isAllowed(statements: readonly PolicyStatement[], { action, resource }: Permission): boolean {
  const list = (value: string | readonly string[]) => (typeof value === 'string' ? [value] : value);
  return statements.some(
    (statement) =>
      statement.Effect === 'Allow' &&
      list(statement.Action).some((pattern) => wildcardMatches(pattern, action, true)) &&
      list(statement.Resource).some((pattern) => wildcardMatches(pattern, resource, false)),
  );
}

/** Only plain Allow statements are evaluated here; anything else would be silently misjudged. */
function assertEvaluable(statement: PolicyStatement): void {
  const keys = Object.keys(statement).filter((key) => key !== 'Sid');
  if (statement.Effect !== 'Allow' || keys.sort().join() !== 'Action,Effect,Resource') {
    throw new Error(`The IAM proxy evaluates plain Allow statements only, not ${JSON.stringify(statement)}: extend isAllowed.`);
  }
}

export interface IamProxy {
  /** Use as the function's DYNAMODB_ENDPOINT. */
  readonly endpoint: string;
  /** The AccessDeniedException messages answered so far (and any request the proxy could not check). */
  readonly denials: readonly string[];
  close(): Promise<void>;
}

export interface IamProxyOptions {
  /** DynamoDB Local. */
  readonly upstream: string;
  /** The statements of every policy attached to the function's role. */
  readonly statements: readonly PolicyStatement[];
  /** Named in the denial, as AWS does: `arn:aws:sts::<account>:assumed-role/<role>/<function>`. */
  readonly principal: string;
}

/**
 * A DynamoDB endpoint in front of DynamoDB Local that lets a request through only if the
 * function's IAM policy allows every action it needs, and otherwise answers what DynamoDB
 * answers then. Denials are also recorded: the handlers turn them into a generic 500.
 */
export async function startIamProxy({ upstream, statements, principal }: IamProxyOptions): Promise<IamProxy> {
  statements.forEach(assertEvaluable);
  const denials: string[] = [];

  async function handle(incoming: IncomingMessage, answer: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const operation = String(incoming.headers['x-amz-target']).replace(/^DynamoDB_20120810\./, '');
    const denied = requiredPermissions(operation, JSON.parse(body.toString('utf8')) as DynamoDbRequest).find(
      (permission) => !isAllowed(statements, permission),
    );
    if (denied) {
      const message =
        `User: ${principal} is not authorized to perform: ${denied.action} on resource: ${denied.resource} ` +
        `because no identity-based policy allows the ${denied.action} action`;
      denials.push(message);
      answer.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': 'AccessDeniedException', 'x-amzn-requestid': randomUUID() });
      answer.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException', message }));
      return;
    }
    // Allowed: the same request, byte for byte, and DynamoDB Local's answer streamed back.
    const forwarded = request(new URL(incoming.url!, upstream), { method: incoming.method, headers: incoming.rawHeaders }, (response) => {
      answer.writeHead(response.statusCode!, response.rawHeaders);
      response.pipe(answer);
    });
    forwarded.on('error', (error) => answer.destroy(error));
    forwarded.end(body);
  }

  const server = createServer((incoming, answer) => {
    handle(incoming, answer).catch((error: unknown) => {
      denials.push(`The IAM proxy could not check a request: ${String(error)}`);
      answer.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    denials,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
