import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CreateTableCommand, type CreateTableCommandInput, DeleteTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResultV2, Context, DynamoDBRecord } from 'aws-lambda';
import { localCredentials, localRegion } from '../../functions/config';
import { type FilterPattern, matches } from '../../local/stream-poller';
import { type IamProxy, isAllowed, startIamProxy } from './iam-proxy';
import { dynamoDbStreamEvent, dynamoDbStreamRecord, type HttpApiRequest, httpApiEvent, scheduledEvent } from './lambda-events';
import { readTableStream } from './table-stream';
import { type CfnTemplate, deployment, type HttpApiRoute, ResolvedTemplate, type ScheduledTarget, type StreamMapping } from './template';

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

interface ColdStartedFunction {
  readonly handler: LambdaHandler;
  readonly context: (requestId: string) => Context;
}

export interface Invocation<Result> {
  readonly result: Result;
  /** What the function printed during the invocation (and its cold start): its CloudWatch log. */
  readonly logs: string;
}

export interface HttpApiResponse<Body> {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Body;
  readonly logs: string;
}

/** What one read of a stream by its mapping handed the function. */
export interface StreamDelivery<Result> {
  /** The records its filters kept, in the order delivered. */
  readonly records: readonly DynamoDBRecord[];
  /** One per batch (at most the mapping's batch size each). */
  readonly invocations: readonly Invocation<Result>[];
}

export interface LocalDeploymentOptions {
  readonly template: CfnTemplate;
  readonly stackName: string;
  /** Where the template was synthesized, with its assets (`asset.<hash>/`). */
  readonly assemblyDir: string;
  readonly dynamoDbEndpoint: string;
}

/**
 * A synthesized stack "deployed" onto DynamoDB Local and this process: its tables created
 * from their definitions in the template, its functions loaded from their bundles on their
 * first invocation (a cold start with the environment the template gives them), each talking
 * to DynamoDB through a proxy that enforces the IAM policy the template gives its role. Its
 * triggers are the template's too: HTTP API routes (with their authorization), schedules and
 * event source mappings on the tables' streams.
 */
export class LocalDeployment {
  readonly template: ResolvedTemplate;
  /** Every function the template defines, by logical id. */
  readonly functionIds: readonly string[];
  /** The HTTP API routes of the template, by route key. */
  readonly httpApiRoutes: ReadonlyMap<string, HttpApiRoute>;
  /** The functions EventBridge rules of the template invoke on a schedule. */
  readonly schedules: readonly ScheduledTarget[];
  /** The event source mappings of the template on its tables' streams. */
  readonly streamMappings: readonly StreamMapping[];
  /** Functions invoked so far, by logical id. */
  readonly invoked = new Set<string>();
  private readonly tableIds: readonly string[];
  private readonly started = new Map<string, Promise<ColdStartedFunction>>();
  private readonly proxies: IamProxy[] = [];
  private readonly db: DynamoDBClient;
  /** Per mapping, the sequence numbers of the records its poller has read. */
  private readonly read = new Map<string, Set<string>>();

  constructor(private readonly options: LocalDeploymentOptions) {
    const tableIds = Object.keys(options.template.Resources).filter((id) => options.template.Resources[id]!.Type === 'AWS::DynamoDB::Table');
    // Unique table names per run: DynamoDB Local is shared by every test file.
    const runId = randomBytes(4).toString('hex');
    const names = Object.fromEntries(tableIds.map((id) => [id, `${options.stackName}-${id}-${runId}`]));
    this.template = new ResolvedTemplate(options.template, options.stackName, names);
    this.tableIds = tableIds;
    this.functionIds = this.template.idsOfType('AWS::Lambda::Function');
    this.httpApiRoutes = this.template.httpApiRoutes();
    this.schedules = this.template.scheduledTargets();
    this.streamMappings = this.template.streamMappings();
    // Lambda's AWS_REGION (below) is the Region DynamoDB Local must hold the tables in: it keys them by Region.
    this.db = new DynamoDBClient({ endpoint: options.dynamoDbEndpoint, region: localRegion, credentials: localCredentials });
  }

  /** Creates the template's tables, each from its own definition there. */
  async createTables(): Promise<void> {
    for (const id of this.tableIds) {
      await this.db.send(new CreateTableCommand(createTableInput(this.template, id)));
      const timeToLive = this.template.property(id, 'TimeToLiveSpecification') as { AttributeName: string; Enabled: boolean } | undefined;
      if (timeToLive) await this.db.send(new UpdateTimeToLiveCommand({ TableName: this.template.physicalName(id), TimeToLiveSpecification: timeToLive }));
    }
  }

  /** The names the template's tables got here, for tests that set data up directly. */
  get tableNames(): string[] {
    return this.tableIds.map((id) => this.template.physicalName(id));
  }

  /** The DynamoDB calls denied so far, by any function's IAM policy. */
  get denials(): string[] {
    return this.proxies.flatMap((proxy) => proxy.denials);
  }

  /** Where each function's denials stand now, for `deniedSince`. */
  denialMark(): readonly number[] {
    return this.proxies.map((proxy) => proxy.denials.length);
  }

  /** The DynamoDB calls denied after `mark`, by any function's IAM policy (a proxy started since counts from none). */
  deniedSince(mark: readonly number[]): string[] {
    return this.proxies.flatMap((proxy, index) => proxy.denials.slice(mark[index] ?? 0));
  }

  /** Stops the proxies and deletes the tables. */
  async destroy(): Promise<void> {
    await Promise.all(this.proxies.map((proxy) => proxy.close()));
    for (const id of this.tableIds) await this.db.send(new DeleteTableCommand({ TableName: this.template.physicalName(id) }));
    this.db.destroy();
  }

  /** The folder of a function's bundle in the cloud assembly (what `cdk deploy` zips and uploads). */
  codeDir(functionId: string): string {
    const { S3Key } = this.template.property(functionId, 'Code') as { S3Key?: string };
    if (!S3Key) throw new Error(`${functionId} has no asset code.`);
    return join(this.options.assemblyDir, `asset.${S3Key.replace(/\.zip$/, '')}`);
  }

  /** Invokes a function with an event, as its trigger would; the first invocation is its cold start. */
  async invoke<Result>(functionId: string, event: unknown): Promise<Invocation<Result>> {
    this.invoked.add(functionId);
    const [result, logs] = await capturingOutput(async () => {
      if (!this.started.has(functionId)) this.started.set(functionId, this.coldStart(functionId));
      const { handler, context } = await this.started.get(functionId)!;
      return handler(event, context(randomBytes(16).toString('hex')));
    });
    return { result: result as Result, logs };
  }

  /**
   * A request through the HTTP API: the route's function gets the event API Gateway sends and its
   * answer is read the same way. A route the template guards with a JWT authorizer passes the
   * request's claims on (those of a token API Gateway verified); without claims API Gateway would
   * answer 401 and run no function, so this throws. A route it does not guard passes none.
   */
  async request<Body = Record<string, unknown>>(request: HttpApiRequest): Promise<HttpApiResponse<Body>> {
    const route = this.httpApiRoutes.get(request.routeKey);
    if (!route) throw new Error(`The template has no route '${request.routeKey}'; it has ${[...this.httpApiRoutes.keys()].join(', ')}.`);
    const guarded = route.authorizationType === 'JWT';
    if (!guarded && route.authorizationType !== 'NONE') throw new Error(`${request.routeKey}: authorization ${route.authorizationType} is not emulated here.`);
    if (guarded && !request.claims) {
      throw new Error(
        `${request.routeKey} is guarded by a JWT authorizer in the template: API Gateway answers 401 without a valid token. Pass the token's claims (claimsOf).`,
      );
    }
    const event = httpApiEvent(
      { ...request, claims: guarded ? request.claims : undefined },
      { apiId: route.apiId, accountId: deployment.accountId, region: deployment.region },
    );
    const { result, logs } = await this.invoke<APIGatewayProxyResultV2>(route.functionId, event);
    // Payload format 2.0: a result with a statusCode is the response; anything else is a 200 JSON body.
    const response = typeof result === 'object' && 'statusCode' in result ? result : { statusCode: 200, body: JSON.stringify(result) };
    const text = response.isBase64Encoded ? Buffer.from(response.body ?? '', 'base64').toString('utf8') : response.body;
    const headers = Object.fromEntries(Object.entries(response.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
    return { status: response.statusCode ?? 200, headers, body: (text ? JSON.parse(text) : undefined) as Body, logs };
  }

  /** One firing of a schedule: its function gets the event EventBridge sends, if the template lets EventBridge invoke it. */
  async runSchedule<Result>(schedule: ScheduledTarget, time: Date = new Date()): Promise<Invocation<Result>> {
    if (!this.template.mayInvoke(schedule.functionId, 'events.amazonaws.com', schedule.ruleArn)) {
      throw new Error(
        `${schedule.ruleArn} could not invoke ${schedule.functionId}: no AWS::Lambda::Permission lets events.amazonaws.com invoke it from that rule.`,
      );
    }
    return this.invoke<Result>(schedule.functionId, scheduledEvent(schedule.ruleArn, time));
  }

  /**
   * What a stream mapping's poller does with what was written since it last read: it reads the
   * table's stream with the function's role (so the role must allow it, or creating the mapping
   * fails), keeps the records its filters match, and invokes the function with them in batches of
   * its batch size, each as Lambda builds the event. `fromOldest` reads the whole stream again, as
   * a mapping started anew at TRIM_HORIZON does: every record is delivered again.
   */
  async deliverStream<Result>(mapping: StreamMapping, { fromOldest = false }: { fromOldest?: boolean } = {}): Promise<StreamDelivery<Result>> {
    this.checkMappingAccess(mapping);
    const read = this.read.get(mapping.mappingId) ?? new Set<string>();
    this.read.set(mapping.mappingId, read);
    const records = (await readTableStream(this.options.dynamoDbEndpoint, this.template.physicalName(mapping.tableId)))
      .map((record) => dynamoDbStreamRecord(record, mapping.streamArn))
      .filter((record) => {
        const sequenceNumber = record.dynamodb!.SequenceNumber!;
        const unread = !read.has(sequenceNumber);
        read.add(sequenceNumber);
        return fromOldest || unread;
      })
      // Lambda's event filtering: a record passes if it matches one of the patterns (all pass without any).
      .filter((record) => mapping.filters.length === 0 || mapping.filters.some((pattern) => matches(record, pattern as FilterPattern)));
    const invocations: Invocation<Result>[] = [];
    for (let start = 0; start < records.length; start += mapping.batchSize) {
      invocations.push(await this.invoke<Result>(mapping.functionId, dynamoDbStreamEvent(records.slice(start, start + mapping.batchSize))));
    }
    return { records, invocations };
  }

  /**
   * What CreateEventSourceMapping checks: the function's role may read the stream and send to the
   * failure destination. https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
   */
  private checkMappingAccess(mapping: StreamMapping): void {
    const statements = this.template.roleStatements(this.roleOf(mapping.functionId));
    const needed = [
      ...['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'].map((action) => ({ action, resource: mapping.streamArn })),
      ...(mapping.onFailureArn ? [{ action: 'sqs:SendMessage', resource: mapping.onFailureArn }] : []),
    ];
    const denied = needed.filter((permission) => !isAllowed(statements, permission));
    if (denied.length > 0) {
      throw new Error(
        `${mapping.mappingId}: the role of ${mapping.functionId} may not ${denied.map(({ action, resource }) => `${action} on ${resource}`).join(', ')}: ` +
          'Lambda could not read the stream or record a failed batch, and creating the mapping fails.',
      );
    }
  }

  /** Logical id of a function's role. */
  private roleOf(functionId: string): string {
    return this.template.idOfArn(this.template.resolveString(this.template.property(functionId, 'Role')), 'AWS::IAM::Role');
  }

  private async coldStart(functionId: string): Promise<ColdStartedFunction> {
    const { template } = this;
    const name = template.physicalName(functionId);
    const roleId = this.roleOf(functionId);
    const proxy = await startIamProxy({
      upstream: this.options.dynamoDbEndpoint,
      statements: template.roleStatements(roleId),
      principal: `arn:aws:sts::${deployment.accountId}:assumed-role/${template.physicalName(roleId)}/${name}`,
    });
    this.proxies.push(proxy);

    const [moduleName, exportName] = splitHandler(template.resolveString(template.property(functionId, 'Handler')));
    const memorySize = (template.property(functionId, 'MemorySize') as number | undefined) ?? 128;
    const timeoutMs = ((template.property(functionId, 'Timeout') as number | undefined) ?? 3) * 1000;
    const logGroupName = (template.property(functionId, 'LoggingConfig') as { LogGroup?: string } | undefined)?.LogGroup ?? `/aws/lambda/${name}`;
    const logStreamName = `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomBytes(16).toString('hex')}`;
    const variables = (template.property(functionId, 'Environment') as { Variables?: Record<string, string> } | undefined)?.Variables;

    // What the Lambda runtime sets itself (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html),
    // the function's own variables from the template, and the one local difference: DynamoDB is DynamoDB Local behind the IAM proxy.
    const environment = {
      ...variables,
      _HANDLER: `${moduleName}.${exportName}`,
      AWS_REGION: deployment.region,
      AWS_DEFAULT_REGION: deployment.region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${template.resolveString(template.property(functionId, 'Runtime'))}`,
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySize),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: logGroupName,
      AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
      // The role's session credentials on AWS; here the ones DynamoDB Local keys its tables by.
      AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
      AWS_SESSION_TOKEN: 'local-session',
      LAMBDA_TASK_ROOT: this.codeDir(functionId),
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      DYNAMODB_ENDPOINT: proxy.endpoint,
    };
    // The bundle reads its configuration when it loads, as at a cold start: it must see this
    // environment and nothing of the test process's. Each bundle has its own copy of every
    // module (the SDK included), so several load side by side.
    const file = join(this.codeDir(functionId), `${moduleName}.js`);
    let loaded: Record<string, unknown>;
    try {
      loaded = withEnvironment(environment, () => createRequire(file)(file) as Record<string, unknown>);
    } catch (error) {
      throw new Error(`${functionId} failed its cold start: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const handler = loaded[exportName];
    if (typeof handler !== 'function') throw new Error(`${file} exports no function '${exportName}'.`);

    return {
      handler: handler as LambdaHandler,
      context: (requestId) => {
        const deadline = Date.now() + timeoutMs;
        return {
          callbackWaitsForEmptyEventLoop: true,
          functionName: name,
          functionVersion: '$LATEST',
          invokedFunctionArn: template.arn(functionId),
          memoryLimitInMB: String(memorySize),
          awsRequestId: requestId,
          logGroupName,
          logStreamName,
          getRemainingTimeInMillis: () => deadline - Date.now(),
          done: () => undefined,
          fail: () => undefined,
          succeed: () => undefined,
        };
      },
    };
  }
}

/** CreateTable input from an `AWS::DynamoDB::Table`: everything of its definition that DynamoDB Local takes. */
function createTableInput(template: ResolvedTemplate, id: string): CreateTableCommandInput {
  type Index = { IndexName: string; KeySchema: unknown; Projection: unknown; ProvisionedThroughput?: unknown };
  const property = (name: string) => template.property(id, name);
  const stream = property('StreamSpecification') as { StreamViewType: string } | undefined;
  // The template's index definitions may carry settings CreateTable does not take (contributor insights...).
  const index = ({ IndexName, KeySchema, Projection, ProvisionedThroughput }: Index) => ({ IndexName, KeySchema, Projection, ProvisionedThroughput });
  return {
    TableName: template.physicalName(id),
    KeySchema: property('KeySchema'),
    AttributeDefinitions: property('AttributeDefinitions'),
    BillingMode: property('BillingMode'),
    ProvisionedThroughput: property('ProvisionedThroughput'),
    GlobalSecondaryIndexes: (property('GlobalSecondaryIndexes') as Index[] | undefined)?.map(index),
    LocalSecondaryIndexes: (property('LocalSecondaryIndexes') as Index[] | undefined)?.map(index),
    // In CloudFormation a StreamSpecification means the stream is on.
    StreamSpecification: stream && { StreamEnabled: true, StreamViewType: stream.StreamViewType },
  } as CreateTableCommandInput;
}

/** `index.handler` → the module `index` and its export `handler`. */
function splitHandler(handler: string): [moduleName: string, exportName: string] {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

/** Runs `run` with exactly `environment` as process.env, then puts the test process's back. */
function withEnvironment<T>(environment: Readonly<Record<string, string>>, run: () => T): T {
  const saved = { ...process.env };
  const replace = (variables: NodeJS.ProcessEnv) => {
    for (const name of Object.keys(process.env)) delete process.env[name];
    Object.assign(process.env, variables);
  };
  replace(environment);
  try {
    return run();
  } finally {
    replace(saved);
  }
}

/** Runs `run` and returns what it wrote to stdout and stderr instead of printing it (invocations run one at a time). */
async function capturingOutput<T>(run: () => Promise<T>): Promise<[T, string]> {
  const output: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof stream.write;
  }
  try {
    return [await run(), output.join('')];
  } finally {
    streams.forEach((stream, index) => {
      stream.write = writes[index]!;
    });
  }
}
