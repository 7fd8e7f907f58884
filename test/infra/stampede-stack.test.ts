import { App, Duration, type Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultThrottle } from '../../lib/constructs/stampede-api';
import { functionEnvironment } from '../../lib/constructs/stampede-function';
import { defaultAlarmThresholds } from '../../lib/constructs/stampede-monitoring';
import { queueDeciderJob, sweeperJob } from '../../lib/jobs';
import { readActions, routeKey, routes, type TableAction } from '../../lib/routes';
import { StampedeStack } from '../../lib/stampede-stack';
import { tableSchema } from '../../lib/table-schema';
import { type Synthesized, synthStampede } from './synth';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

let sandbox: Synthesized;
beforeAll(() => {
  sandbox = synthStampede();
});

const resourcesOf = ({ template }: Synthesized, type: string) => template.findResources(type) as Record<string, Resource>;
const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as CfnFunction);

describe('the table', () => {
  it('is built from the shared schema: pk/sk strings, the sweep index, on-demand, TTL on `ttl`, point-in-time recovery, the stream', () => {
    const { partitionKey, sortKey, globalSecondaryIndexes } = tableSchema;
    const indexKeys = globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey]);
    sandbox.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    sandbox.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: partitionKey.name, KeyType: 'HASH' },
        { AttributeName: sortKey.name, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [partitionKey, sortKey, ...indexKeys].map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
      GlobalSecondaryIndexes: globalSecondaryIndexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: index.projection },
      })),
      StreamSpecification: { StreamViewType: tableSchema.streamViewType },
      BillingMode: tableSchema.billingMode,
      TimeToLiveSpecification: { AttributeName: tableSchema.timeToLiveAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      ProvisionedThroughput: Match.absent(),
      // No fixed name: two stages in one account never collide.
      TableName: Match.absent(),
    });
  });

  it('of a sandbox stage goes away with the stack, and so do its logs', () => {
    sandbox.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
    for (const logGroup of Object.values(resourcesOf(sandbox, 'AWS::Logs::LogGroup'))) expect(logGroup.DeletionPolicy).toBe('Delete');
  });

  it.each([
    ['prod', {}],
    ['production', {}],
    ['staging', { protected: 'true' }],
  ])('of the protected stage %s has deletion protection and outlives the stack, with its logs', (stage, extra) => {
    const synthesized = synthStampede({ stage, ...extra });
    synthesized.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
    const logGroups = Object.values(resourcesOf(synthesized, 'AWS::Logs::LogGroup'));
    expect(logGroups.map((logGroup) => logGroup.DeletionPolicy)).toEqual(logGroups.map(() => 'Retain'));
  });
});

describe('the stage', () => {
  it.each([
    [{ stage: undefined }, /No stage given.*-c stage=<name>/],
    [{ stage: '' }, /No stage given/],
    [{ stage: 'Prod' }, /Invalid stage 'Prod'/],
    [{ stage: 'a' }, /Invalid stage 'a'/],
    [{ stage: 'my_stage' }, /Invalid stage 'my_stage'/],
    [{ stage: 'x'.repeat(21) }, /Invalid stage/],
    [{ stage: 'alice', protected: 'yes' }, /-c protected=yes.*true or false/],
    [{ stage: 'alice', throttleRate: 'fast' }, /throttleRate=fast.*positive whole number/],
  ])('is required and checked: %j', (context, message) => {
    expect(() => synthStampede(context)).toThrow(message);
  });

  it('names the stack and its resources, so stages live side by side in one account', () => {
    expect(synthStampede({ stage: 'alice' }).stack.stackName).toBe('Stampede-alice');
    sandbox.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { Name: 'stampede-test' });
    sandbox.template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'stampede-test' });
  });

  it('hard-codes no account or Region', () => {
    expect(sandbox.stack.environment).toBe('aws://unknown-account/unknown-region');
  });
});

describe('the HTTP API', () => {
  it('has exactly one route per route-table entry, with its method and path', () => {
    const routeKeys = Object.values(resourcesOf(sandbox, 'AWS::ApiGatewayV2::Route')).map((route) => route.Properties.RouteKey);
    expect(routeKeys.sort()).toEqual(routes.map(routeKey).sort());
  });

  it("sends each route to the function built from that route's handler module (payload format 2.0)", () => {
    const integrations = resourcesOf(sandbox, 'AWS::ApiGatewayV2::Integration');
    for (const route of Object.values(resourcesOf(sandbox, 'AWS::ApiGatewayV2::Route'))) {
      const definition = routes.find((candidate) => routeKey(candidate) === route.Properties.RouteKey)!;
      const integrationId = (route.Properties.Target['Fn::Join'][1] as unknown[])[1] as { Ref: string };
      const integration = integrations[integrationId.Ref]!.Properties;
      expect(integration.IntegrationType).toBe('AWS_PROXY');
      expect(integration.PayloadFormatVersion).toBe('2.0');
      const fn = sandbox.stack.functions.get(definition.id)!;
      expect(integration.IntegrationUri).toEqual({ 'Fn::GetAtt': [logicalId(sandbox.stack, fn.function), 'Arn'] });
    }
  });

  it('serves the $default stage, auto-deployed, throttled at the defaults, with JSON access logs', () => {
    sandbox.template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    sandbox.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: defaultThrottle.rateLimit, ThrottlingBurstLimit: defaultThrottle.burstLimit },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"') },
    });
  });

  it('takes its throttling from the context', () => {
    synthStampede({ throttleRate: '50', throttleBurst: '100' }).template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });
});

describe('the functions', () => {
  it('are one per route, the sweeper and the queued decider: Node.js 22 on arm64, bounded memory and timeout, each with its own log group with retention', () => {
    const functions = resourcesOf(sandbox, 'AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(routes.length + 2);
    const logGroups = resourcesOf(sandbox, 'AWS::Logs::LogGroup');
    for (const route of routes) {
      const fn = functions[logicalId(sandbox.stack, sandbox.stack.functions.get(route.id)!.function)]!.Properties;
      expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 1024, Timeout: 15, Handler: 'index.handler' });
      expect(fn.Description).toContain(routeKey(route));
      const logGroup = logGroups[fn.LoggingConfig.LogGroup.Ref]!;
      expect(logGroup.Properties.RetentionInDays).toBe(30);
    }
  });

  it('include the sweeper, built like the route functions, with a timeout that fits a large backlog and its one-minute schedule', () => {
    const functions = resourcesOf(sandbox, 'AWS::Lambda::Function');
    const sweeper = functions[logicalId(sandbox.stack, sandbox.stack.sweeper.function)]!.Properties;
    const route = functions[logicalId(sandbox.stack, sandbox.stack.functions.get('GetEvent')!.function)]!.Properties;
    for (const property of ['Runtime', 'Architectures', 'Handler', 'MemorySize', 'Environment'] as const)
      expect(sweeper[property], property).toEqual(route[property]);
    expect(sweeper).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 1024, Timeout: 60 });
    expect(sweeper.Description).toBe(`rate(1 minute): ${sweeperJob.description}`);
    expect(sweeper.Environment.Variables).toMatchObject({ STAMPEDE_METRICS: '1', POWERTOOLS_METRICS_NAMESPACE: 'Stampede/test' });
    expect(sweeper.LoggingConfig.LogGroup).toEqual({ Ref: logicalId(sandbox.stack, sandbox.stack.sweeper.logGroup) });
    expect(sweeper.ReservedConcurrentExecutions).toBeUndefined(); // every transition is conditional: two runs at once are safe
  });

  it('run the sweeper every minute from an EventBridge rule, with no retries: the next minute retries', () => {
    const rules = Object.values(resourcesOf(sandbox, 'AWS::Events::Rule'));
    expect(rules).toHaveLength(1);
    const sweeperArn = { 'Fn::GetAtt': [logicalId(sandbox.stack, sandbox.stack.sweeper.function), 'Arn'] };
    expect(rules[0]!.Properties).toMatchObject({
      ScheduleExpression: sweeperJob.schedule,
      State: 'ENABLED',
      Targets: [{ Arn: sweeperArn, RetryPolicy: { MaximumRetryAttempts: 0 } }],
    });
    expect(sweeperJob.schedule).toBe('rate(1 minute)');
    sandbox.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: sweeperArn,
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [logicalId(sandbox.stack, sandbox.stack.sweeper.rule), 'Arn'] },
    });
    // Lambda's own retries of an asynchronous invocation (2 by default, and up to 6 hours for a throttled one) are off too.
    sandbox.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(sandbox.stack, sandbox.stack.sweeper.function) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('include the queued decider, built like the route functions, with a timeout far above what one batch takes', () => {
    const functions = resourcesOf(sandbox, 'AWS::Lambda::Function');
    const decider = functions[logicalId(sandbox.stack, sandbox.stack.queueDecider.function)]!.Properties;
    const route = functions[logicalId(sandbox.stack, sandbox.stack.functions.get('GetEvent')!.function)]!.Properties;
    for (const property of ['Runtime', 'Architectures', 'Handler', 'MemorySize', 'Environment'] as const)
      expect(decider[property], property).toEqual(route[property]);
    // A batch of 500 is about a second of work; a chunk that keeps conflicting gives up within about 50 s and reports itself.
    expect(decider).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 1024, Timeout: 120 });
    expect(decider.Description).toBe(`Table stream: ${queueDeciderJob.description}`);
    expect(decider.LoggingConfig.LogGroup).toEqual({ Ref: logicalId(sandbox.stack, sandbox.stack.queueDecider.logGroup) });
    expect(decider.ReservedConcurrentExecutions).toBeUndefined();
  });

  it("feed the queued decider the table's stream: from the oldest record, the job's filter, batch size and retries, bisecting, partial failures, a bounded record age", () => {
    const mappings = Object.values(resourcesOf(sandbox, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(1);
    const mapping = mappings[0]!.Properties;
    expect(mapping).toEqual({
      FunctionName: { Ref: logicalId(sandbox.stack, sandbox.stack.queueDecider.function) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(sandbox.stack, sandbox.stack.table.table), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: queueDeciderJob.batchSize,
      MaximumBatchingWindowInSeconds: 0,
      FilterCriteria: { Filters: [{ Pattern: expect.any(String) }] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: queueDeciderJob.maxRetries,
      // The decision timeout (STAMPEDE_QUEUE_DECISION_TIMEOUT_MS): an older request is the sweeper's to reject.
      MaximumRecordAgeInSeconds: 300,
      // Above 1, Lambda keeps order per item only, and every log entry is an item: arrival order needs 1.
      ParallelizationFactor: 1,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(sandbox.stack, sandbox.stack.queueDecider.failures), 'Arn'] } } },
      Tags: expect.any(Array),
    });
    // Exactly the pattern the local poller filters with (local/stream-poller.ts), not a copy of it.
    expect(JSON.parse(mapping.FilterCriteria.Filters[0].Pattern)).toEqual(queueDeciderJob.filter);
    expect(mapping.FilterCriteria.Filters[0].Pattern).toBe('{"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"QUEUE#"}]}},"NewImage":{"type":{"S":["QueueEntry"]}}}}');
  });

  it('record the batches the queued decider gives up on in a queue encrypted by SQS, reachable over TLS only, kept 14 days', () => {
    const queues = resourcesOf(sandbox, 'AWS::SQS::Queue');
    expect(Object.keys(queues)).toEqual([logicalId(sandbox.stack, sandbox.stack.queueDecider.failures)]);
    expect(Object.values(queues)[0]!.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    sandbox.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalId(sandbox.stack, sandbox.stack.queueDecider.failures) }],
      PolicyDocument: {
        Statement: [Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
      },
    });
  });

  it("bound the queued decider's record age by the decision timeout, and refuse one Lambda cannot take", () => {
    const withTimeout = (milliseconds: string) => () =>
      new StampedeStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Queued', {
        stage: { name: 'queued', protected: false },
        functionEnvironment: { STAMPEDE_QUEUE_DECISION_TIMEOUT_MS: milliseconds },
      });
    const mapping = (stack: Stack) => Object.values(Template.fromStack(stack).findResources('AWS::Lambda::EventSourceMapping'))[0]!.Properties;
    expect(mapping(withTimeout('120000')())).toMatchObject({ MaximumRecordAgeInSeconds: 120 });
    expect(withTimeout('30000')).toThrow(
      /DecideQueued: STAMPEDE_QUEUE_DECISION_TIMEOUT_MS \(30000 ms\) is the stream mapping's maximum record age.*at least 60 s/,
    );
  });

  it('are configured from the shared configuration: the table, metrics on, source maps, nothing local', () => {
    const tableRef = { Ref: logicalId(sandbox.stack, sandbox.stack.table.table) };
    for (const fn of Object.values(resourcesOf(sandbox, 'AWS::Lambda::Function'))) {
      expect(fn.Properties.Environment.Variables).toEqual({
        TABLE_NAME: tableRef,
        STAMPEDE_METRICS: '1',
        POWERTOOLS_SERVICE_NAME: 'stampede',
        POWERTOOLS_METRICS_NAMESPACE: 'Stampede/test',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
  });

  it('refuse local-only or malformed configuration at synth time', () => {
    expect(() => functionEnvironment('t', 'ns', { DYNAMODB_ENDPOINT: 'http://localhost:8000' })).toThrow(/DYNAMODB_ENDPOINT must not be set/);
    expect(() => functionEnvironment('t', 'ns', { STAMPEDE_ALLOW_UNSAFE: '1' })).toThrow(/STAMPEDE_ALLOW_UNSAFE must not be set/);
    expect(() => functionEnvironment('t', 'ns', { STAMPEDE_MAX_SOCKETS: 'many' })).toThrow(/STAMPEDE_MAX_SOCKETS must be a positive integer/);
    expect(functionEnvironment('t', 'ns', { STAMPEDE_MAX_SOCKETS: '32' })).toMatchObject({ STAMPEDE_MAX_SOCKETS: '32', TABLE_NAME: 't' });
  });

  it('refuse a hold budget that would leave a timed-out hold no time to undo its steps', () => {
    expect(() => functionEnvironment('t', 'ns', { STAMPEDE_HOLD_BUDGET_MS: '9000' })).toThrow(/at most half the function timeout \(15 s\)/);
    expect(functionEnvironment('t', 'ns', { STAMPEDE_HOLD_BUDGET_MS: '9000' }, Duration.seconds(20))).toMatchObject({ STAMPEDE_HOLD_BUDGET_MS: '9000' });
  });
});

describe('least privilege', () => {
  type Statement = { Action: string | string[]; Resource: unknown };
  const tableArn = () => ({ 'Fn::GetAtt': [logicalId(sandbox.stack, sandbox.stack.table.table), 'Arn'] });
  const statementsOf = (fn: { function: { role?: { node: { defaultChild?: unknown } } } }) => {
    const roleId = sandbox.stack.getLogicalId(fn.function.role!.node.defaultChild as CfnFunction);
    return Object.values(resourcesOf(sandbox, 'AWS::IAM::Policy'))
      .filter((policy) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
  };
  const logsOnly = [['logs:CreateLogStream', 'logs:PutLogEvents']];

  it("gives each route function exactly its route's table actions, on the table and nothing else: no index", () => {
    for (const route of routes) {
      const statements = statementsOf(sandbox.stack.functions.get(route.id)!);
      expect(JSON.stringify(statements), route.id).not.toContain('/index/');
      const dynamo = statements.filter((statement) => [statement.Action].flat().some((action) => action.startsWith('dynamodb:')));
      expect(dynamo, route.id).toHaveLength(1);
      expect(dynamo[0]!.Resource, route.id).toEqual(tableArn());
      expect([dynamo[0]!.Action].flat().sort(), route.id).toEqual([...route.tableActions].sort());
      const others = statements.filter((statement) => statement !== dynamo[0]);
      expect(
        others.map((statement) => [statement.Action].flat()),
        route.id,
      ).toEqual(logsOnly);
    }
  });

  it("gives the sweeper exactly its job's actions: Query on the sweep index only, the others on the table, nothing else", () => {
    const statements = statementsOf(sandbox.stack.sweeper);
    const onTable = sweeperJob.tableActions.filter((action) => action !== 'dynamodb:Query');
    expect(sweeperJob.indexes).toEqual(['sweep']);
    expect(statements.filter((statement) => JSON.stringify(statement).includes('dynamodb:'))).toEqual([
      { Effect: 'Allow', Action: [...onTable].sort(), Resource: tableArn() },
      { Effect: 'Allow', Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [tableArn(), '/index/sweep']] } },
    ]);
    expect(statements.filter((statement) => !JSON.stringify(statement).includes('dynamodb:')).map((statement) => [statement.Action].flat())).toEqual(logsOnly);
  });

  it("gives the queued decider exactly its job's actions on the table, stream reads on the table's stream only, and sending to its failure queue", () => {
    const statements = statementsOf(sandbox.stack.queueDecider);
    const streamArn = { 'Fn::GetAtt': [logicalId(sandbox.stack, sandbox.stack.table.table), 'StreamArn'] };
    const queueArn = { 'Fn::GetAtt': [logicalId(sandbox.stack, sandbox.stack.queueDecider.failures), 'Arn'] };
    expect(queueDeciderJob.indexes).toEqual([]);
    expect(statements.filter((statement) => !JSON.stringify(statement).includes('logs:'))).toEqual([
      { Effect: 'Allow', Action: [...queueDeciderJob.tableActions].sort(), Resource: tableArn() },
      // As AWS documents it for a function reading a stream, and not grantStreamRead's ListStreams on '*'.
      {
        Effect: 'Allow',
        Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
        Resource: streamArn,
      },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn },
    ]);
    expect(statements.filter((statement) => JSON.stringify(statement).includes('logs:')).map((statement) => [statement.Action].flat())).toEqual(logsOnly);
    expect(JSON.stringify(statements)).not.toContain('"*"');
  });

  it('refuses at synth a function that lists Query but no index to run it on', () => {
    const withGetEventActions = (tableActions: TableAction[]) => () =>
      new StampedeStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Grants', {
        stage: { name: 'grants', protected: false },
        routes: routes.map((route) => (route.id === 'GetEvent' ? { ...route, tableActions } : route)),
      });
    expect(withGetEventActions(['dynamodb:GetItem', 'dynamodb:Query'])).toThrow(
      /GetEvent: dynamodb:Query is granted on the indexes a function lists and nowhere else/,
    );
    expect(withGetEventActions(['dynamodb:GetItem'])).not.toThrow();
  });

  it('uses no managed policies (AWSLambdaBasicExecutionRole could write to every log group)', () => {
    for (const role of Object.values(resourcesOf(sandbox, 'AWS::IAM::Role'))) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('grants readers read actions only, and every writer at least one write', () => {
    for (const route of routes) {
      const writes = route.tableActions.filter((action) => !readActions.includes(action));
      expect(writes.length === 0, `${route.id} is '${route.tableAccess}' but may ${writes.join(', ') || 'only read'}`).toBe(route.tableAccess === 'read');
    }
  });
});

describe('the alarms', () => {
  const alarmNamed = (synthesized: Synthesized, name: string) => {
    const found = Object.values(resourcesOf(synthesized, 'AWS::CloudWatch::Alarm')).filter((alarm) => alarm.Properties.AlarmName === `stampede-test-${name}`);
    expect(found, name).toHaveLength(1);
    return found[0]!.Properties;
  };
  const topicRef = () => ({ Ref: logicalId(sandbox.stack, sandbox.stack.monitoring.topic) });

  it('page on a 5xx rate of 5% or more for three minutes in a row', () => {
    const alarm = alarmNamed(sandbox, 'Api5xxRate');
    expect(alarm).toMatchObject({
      Threshold: 5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef()],
    });
    const expression = alarm.Metrics.find((metric: { Expression?: string }) => metric.Expression);
    expect(expression.Expression).toBe('IF(requests > 0, 100 * errors / requests, 0)');
    const inputs = Object.fromEntries(
      alarm.Metrics.filter((metric: { MetricStat?: unknown }) => metric.MetricStat).map((metric: any) => [metric.Id, metric.MetricStat]),
    );
    expect(inputs.errors).toMatchObject({ Metric: { Namespace: 'AWS/ApiGateway', MetricName: '5xx' }, Period: 60, Stat: 'Sum' });
    expect(inputs.requests).toMatchObject({ Metric: { Namespace: 'AWS/ApiGateway', MetricName: 'Count' }, Period: 60, Stat: 'Sum' });
  });

  it('page on any Lambda error or throttle, per function, the sweeper and the queued decider included', () => {
    const functions = [
      ...[...sandbox.stack.functions].map(([id, fn]) => [id, fn.function] as const),
      [sweeperJob.id, sandbox.stack.sweeper.function] as const,
      [queueDeciderJob.id, sandbox.stack.queueDecider.function] as const,
    ];
    expect(functions).toHaveLength(routes.length + 2);
    for (const [id, fn] of functions) {
      for (const [suffix, metricName] of [
        ['Errors', 'Errors'],
        ['Throttles', 'Throttles'],
      ] as const) {
        expect(alarmNamed(sandbox, `${id}${suffix}`)).toMatchObject({
          Namespace: 'AWS/Lambda',
          MetricName: metricName,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(sandbox.stack, fn) } }],
          Statistic: 'Sum',
          Period: 60,
          Threshold: 1,
          EvaluationPeriods: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          AlarmActions: [topicRef()],
        });
      }
    }
  });

  it('page on DynamoDB throttling and on sustained transaction conflicts', () => {
    const tableRef = { Ref: logicalId(sandbox.stack, sandbox.stack.table.table) };
    const throttles = alarmNamed(sandbox, 'TableThrottles');
    expect(throttles).toMatchObject({ Threshold: 1, EvaluationPeriods: 1, AlarmActions: [topicRef()] });
    // A throttle metric has points only when something was throttled: each term is filled with 0, or one quiet series would blank the sum.
    expect(throttles.Metrics.find((metric: { Expression?: string }) => metric.Expression).Expression).toBe(
      'FILL(reads, 0) + FILL(writes, 0) + FILL(indexReads, 0) + FILL(indexWrites, 0)',
    );
    const throttleInputs = throttles.Metrics.filter((metric: any) => metric.MetricStat).map((metric: any) => metric.MetricStat.Metric);
    // The table's TableName dimension leaves out its indexes' throttles, and a throttled sweep index throttles the table's writes.
    const indexDimensions = [
      { Name: 'GlobalSecondaryIndexName', Value: 'sweep' },
      { Name: 'TableName', Value: tableRef },
    ];
    expect(throttleInputs).toEqual([
      { Namespace: 'AWS/DynamoDB', MetricName: 'ReadThrottleEvents', Dimensions: [{ Name: 'TableName', Value: tableRef }] },
      { Namespace: 'AWS/DynamoDB', MetricName: 'WriteThrottleEvents', Dimensions: [{ Name: 'TableName', Value: tableRef }] },
      { Namespace: 'AWS/DynamoDB', MetricName: 'ReadThrottleEvents', Dimensions: indexDimensions },
      { Namespace: 'AWS/DynamoDB', MetricName: 'WriteThrottleEvents', Dimensions: indexDimensions },
    ]);
    expect(alarmNamed(sandbox, 'TransactionConflicts')).toMatchObject({
      Metrics: [
        {
          MetricStat: {
            Metric: { Namespace: 'AWS/DynamoDB', MetricName: 'TransactionConflict', Dimensions: [{ Name: 'TableName', Value: tableRef }] },
            Period: 60,
            Stat: 'Sum',
          },
          ReturnData: true,
        },
      ],
      Threshold: defaultAlarmThresholds.transactionConflicts,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      AlarmActions: [topicRef()],
    });
  });

  it('page when a due hold has waited 5 minutes for the sweeper, and when the sweeper reports nothing: it is not running', () => {
    const alarm = alarmNamed(sandbox, 'SweepOverdue');
    expect(alarm).toMatchObject({
      Threshold: 300_000,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'breaching',
      AlarmActions: [topicRef()],
    });
    expect(defaultAlarmThresholds.sweepOverdueMinutes * 60_000).toBe(alarm.Threshold);
    expect(alarm.AlarmDescription).toMatch(/no data means it is not running or cannot read its index/);
    // What the sweeper's Powertools metrics are: namespace Stampede/<stage>, the `service` dimension only.
    expect(alarm.Metrics).toEqual([
      {
        Id: expect.any(String),
        Label: expect.any(String),
        MetricStat: {
          Metric: { Namespace: 'Stampede/test', MetricName: 'OldestDueAge', Dimensions: [{ Name: 'service', Value: 'stampede' }] },
          Period: 60,
          Stat: 'Maximum',
        },
        ReturnData: true,
      },
    ]);
  });

  it('page when the queued decider is handed records a minute old, 2 minutes in a row: requests wait, and time out at 5 minutes', () => {
    const alarm = alarmNamed(sandbox, 'DecideQueuedIteratorAge');
    expect(alarm).toMatchObject({
      Threshold: 60_000,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef()],
    });
    expect(defaultAlarmThresholds.queueIteratorAgeSeconds * 1000).toBe(alarm.Threshold);
    expect(alarm.AlarmDescription).toMatch(/STAMPEDE_QUEUE_DECISION_TIMEOUT_MS \(5 min\) the sweeper rejects them \(not_decided\)/);
    expect(alarm.Metrics).toEqual([
      {
        Id: expect.any(String),
        Label: expect.any(String),
        MetricStat: {
          Metric: {
            Namespace: 'AWS/Lambda',
            MetricName: 'IteratorAge',
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(sandbox.stack, sandbox.stack.queueDecider.function) } }],
          },
          Period: 60,
          Stat: 'Maximum',
        },
        ReturnData: true,
      },
    ]);
  });

  it('page when the queued decider fails to decide 3 minutes in a row: it answers the mapping with a partial failure, so Errors stays 0', () => {
    const alarm = alarmNamed(sandbox, 'DecideQueuedDecisionFailures');
    expect(alarm).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef()],
    });
    // As the consumer counts it (functions/domain/queue-consumer.ts): dimensions `service` and `strategy`.
    expect(alarm.Metrics[0].MetricStat).toEqual({
      Metric: {
        Namespace: 'Stampede/test',
        MetricName: 'QueueDecisionFailed',
        Dimensions: [
          { Name: 'service', Value: 'stampede' },
          { Name: 'strategy', Value: 'queued' },
        ],
      },
      Period: 60,
      Stat: 'Sum',
    });
  });

  it('page as soon as the queued decider gives a batch up: its failure queue holds a message', () => {
    const alarm = alarmNamed(sandbox, 'DecideQueuedFailedBatches');
    expect(alarm).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef()],
    });
    expect(alarm.AlarmDescription).toMatch(/nothing is lost/);
    expect(alarm.Metrics[0].MetricStat).toEqual({
      Metric: {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(sandbox.stack, sandbox.stack.queueDecider.failures), 'QueueName'] } }],
      },
      Period: 60,
      Stat: 'Maximum',
    });
  });

  it('are all listed above, and all go to one topic that accepts only TLS', () => {
    const alarms = Object.values(resourcesOf(sandbox, 'AWS::CloudWatch::Alarm'));
    // The API's 5xx rate; errors and throttles of each route function, the sweeper and the queued decider; table throttles,
    // conflicts; the sweep overdue; the decider's iterator age, failed decisions and failed batches.
    expect(alarms).toHaveLength(1 + 2 * (routes.length + 2) + 2 + 1 + 3);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([topicRef()]);
    sandbox.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it("may publish to that topic: its policy replaces SNS's default one, so CloudWatch needs an Allow of its own", () => {
    const [policy] = Object.values(resourcesOf(sandbox, 'AWS::SNS::TopicPolicy'));
    const allows = policy!.Properties.PolicyDocument.Statement.filter((statement: { Effect: string }) => statement.Effect === 'Allow');
    expect(allows).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: topicRef(),
        // Only this stage's alarms, of this account: not any CloudWatch alarm anywhere.
        Condition: {
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:stampede-test-*'],
              ],
            },
          },
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        },
      }),
    ]);
  });

  it('subscribe the address given with -c alarmEmail', () => {
    synthStampede({ alarmEmail: 'oncall@example.com' }).template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    sandbox.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('the dashboard and outputs', () => {
  const dashboardBody = () => JSON.stringify(Object.values(resourcesOf(sandbox, 'AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody);

  it('graph the rush: API, holds and sold-outs by strategy, Lambda, DynamoDB capacity, throttles, conflicts', () => {
    const body = dashboardBody();
    for (const expected of [
      '5xx',
      'ReservationCreated',
      'SoldOutWithoutWrite',
      '\\"strategy\\",\\"sharded\\"',
      'ConcurrentExecutions',
      'ConsumedWriteCapacityUnits',
      'WriteThrottleEvents',
      'TransactionConflict',
      'Stampede/test',
    ]) {
      expect(body).toContain(expected);
    }
  });

  /** The dashboard's widgets, its JSON parsed (each CloudFormation token shown as its JSON, with single quotes). */
  const dashboardWidgets = () => {
    const [, parts] = Object.values(resourcesOf(sandbox, 'AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody['Fn::Join'] as [string, unknown[]];
    const text = parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part).replaceAll('"', "'"))).join('');
    return (JSON.parse(text) as { widgets: { properties: { title?: string; metrics?: unknown[][] } }[] }).widgets;
  };

  it('graph the sweeper: returned and repaired per minute, sweep lag p50/p99/max, the oldest due reservation, its duration and errors', () => {
    const rows = dashboardWidgets().flatMap((widget) => (widget.properties.metrics ?? []).map((row) => ({ title: widget.properties.title, row })));
    const statOf = (row: unknown[]) => (row.at(-1) as { stat: string }).stat;
    const sweeperRows = rows.filter(({ row }) => row[0] === 'Stampede/test' && !row.includes('strategy'));
    expect(sweeperRows.map(({ row }) => `${row[1]} ${statOf(row)}`)).toEqual([
      'TicketsReturnedByExpiry Sum',
      'HoldsExpired Sum',
      'HoldsRepaired Sum',
      'QueuedRequestsTimedOut Sum',
      'SweepLag p50',
      'SweepLag p99',
      'SweepLag Maximum',
      'OldestDueAge Maximum',
    ]);
    // As Powertools writes them: the `service` dimension and no other.
    for (const { row } of sweeperRows) expect(row.slice(2, -1)).toEqual(['service', 'stampede']);
    const sweeperRef = `{'Ref':'${logicalId(sandbox.stack, sandbox.stack.sweeper.function)}'}`;
    expect(rows.filter(({ title }) => title === 'Sweeper duration (ms) and errors').map(({ row }) => [row[0], row[1], row[3], statOf(row)].join(' '))).toEqual([
      `AWS/Lambda Duration ${sweeperRef} p99`,
      `AWS/Lambda Duration ${sweeperRef} Maximum`,
      `AWS/Lambda Errors ${sweeperRef} Sum`,
    ]);
  });

  it('graph the queued decider: requests held and rejected per minute, its iterator age against the alarm, invocations, errors, duration, failed batches', () => {
    const widgets = dashboardWidgets();
    const rows = widgets.flatMap((widget) => (widget.properties.metrics ?? []).map((row) => ({ title: widget.properties.title, row })));
    const statOf = (row: unknown[]) => (row.at(-1) as { stat: string }).stat;
    // As the consumer publishes them (functions/domain/queue-consumer.ts): dimensions `service` and `strategy`.
    expect(rows.filter(({ title }) => title === 'Queued requests decided (per minute)').map(({ row }) => row.slice(0, -1))).toEqual([
      ['Stampede/test', 'QueueHeld', 'service', 'stampede', 'strategy', 'queued'],
      ['Stampede/test', 'QueueRejected', 'service', 'stampede', 'strategy', 'queued'],
    ]);
    const deciderRef = `{'Ref':'${logicalId(sandbox.stack, sandbox.stack.queueDecider.function)}'}`;
    const queueName = `{'Fn::GetAtt':['${logicalId(sandbox.stack, sandbox.stack.queueDecider.failures)}','QueueName']}`;
    const described = (title: string) => rows.filter((row) => row.title === title).map(({ row }) => [row[0], row[1], row[3], statOf(row)].join(' '));
    expect(described('Decider iterator age (ms)')).toEqual([`AWS/Lambda IteratorAge ${deciderRef} Maximum`]);
    expect(described('Decider invocations and errors')).toEqual([
      `AWS/Lambda Invocations ${deciderRef} Sum`,
      `AWS/Lambda Errors ${deciderRef} Sum`,
      `AWS/Lambda Throttles ${deciderRef} Sum`,
      'Stampede/test QueueDecisionFailed stampede Sum', // dimensions service=stampede, strategy=queued
    ]);
    expect(described('Decider duration (ms) and failed batches')).toEqual([
      `AWS/Lambda Duration ${deciderRef} p99`,
      `AWS/Lambda Duration ${deciderRef} Maximum`,
      `AWS/SQS ApproximateNumberOfMessagesVisible ${queueName} Maximum`,
    ]);
    const iteratorAge = widgets.find((widget) => widget.properties.title === 'Decider iterator age (ms)')!;
    expect((iteratorAge.properties as { annotations?: unknown }).annotations).toEqual({ horizontal: [{ value: 60_000, label: 'alarm', yAxis: 'left' }] });
  });

  it("output the API URL, the table name and the queued decider's failure queue", () => {
    sandbox.template.hasOutput('ApiUrl', { Value: { 'Fn::Join': ['', Match.arrayWith(['https://', '.execute-api.'])] } });
    sandbox.template.hasOutput('TableName', { Value: { Ref: logicalId(sandbox.stack, sandbox.stack.table.table) } });
    sandbox.template.hasOutput('DecisionFailureQueueUrl', { Value: { Ref: logicalId(sandbox.stack, sandbox.stack.queueDecider.failures) } });
  });
});

describe('cdk-nag', () => {
  it('AwsSolutions finds nothing that is not acknowledged', () => {
    const report = new AwsSolutionsChecks().validateScope(sandbox.stack);
    expect(report.violations.map((violation) => `${violation.ruleName}: ${violation.violatingResources[0]?.constructPath}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges only the findings this design accepts, each with its reason', () => {
    const acknowledged = new Map<string, string[]>();
    for (const construct of sandbox.stack.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          const rule = id.replace(/^annotation::/i, '');
          acknowledged.set(rule, [...(acknowledged.get(rule) ?? []), reason]);
          expect(reason.length, rule).toBeGreaterThan(60);
        }
      }
    }
    expect([...acknowledged.keys()].sort()).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-COG2',
      'AwsSolutions-COG8',
      'AwsSolutions-L1',
      'AwsSolutions-SNS2',
      'AwsSolutions-SQS3',
    ]);
    // The failure queue is itself a dead-letter queue: only it is acknowledged as having none.
    expect(acknowledged.get('AwsSolutions-SQS3')).toEqual([expect.stringMatching(/^This queue is itself the failure destination of the stream mapping/)]);
    // Buyers are no longer anonymous: only the public event page is acknowledged as unauthenticated.
    expect(acknowledged.get('AwsSolutions-APIG4')).toEqual([expect.stringMatching(/^GET \/events\/\{eventId\} is public/)]);
  });
});
