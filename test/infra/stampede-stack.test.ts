import { Duration, type Stack, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultThrottle } from '../../lib/constructs/stampede-api';
import { functionEnvironment } from '../../lib/constructs/stampede-function';
import { defaultAlarmThresholds } from '../../lib/constructs/stampede-monitoring';
import { readActions, routeKey, routes } from '../../lib/routes';
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
  it('is built from the shared schema: pk/sk strings, on-demand, TTL on `ttl`, point-in-time recovery', () => {
    const { partitionKey, sortKey } = tableSchema;
    sandbox.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    sandbox.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: partitionKey.name, KeyType: 'HASH' },
        { AttributeName: sortKey.name, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: partitionKey.name, AttributeType: partitionKey.type },
        { AttributeName: sortKey.name, AttributeType: sortKey.type },
      ],
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
  it('are one per route: Node.js 22 on arm64, bounded memory and timeout, each with its own log group with retention', () => {
    const functions = resourcesOf(sandbox, 'AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(routes.length);
    const logGroups = resourcesOf(sandbox, 'AWS::Logs::LogGroup');
    for (const route of routes) {
      const fn = functions[logicalId(sandbox.stack, sandbox.stack.functions.get(route.id)!.function)]!.Properties;
      expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 1024, Timeout: 15, Handler: 'index.handler' });
      expect(fn.Description).toContain(routeKey(route));
      const logGroup = logGroups[fn.LoggingConfig.LogGroup.Ref]!;
      expect(logGroup.Properties.RetentionInDays).toBe(30);
    }
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
  it("gives each function exactly its route's table actions, on the table and nothing else", () => {
    const policies = Object.values(resourcesOf(sandbox, 'AWS::IAM::Policy'));
    const tableArn = { 'Fn::GetAtt': [logicalId(sandbox.stack, sandbox.stack.table.table), 'Arn'] };
    for (const route of routes) {
      const fn = sandbox.stack.functions.get(route.id)!;
      const roleId = sandbox.stack.getLogicalId(fn.function.role!.node.defaultChild as CfnFunction);
      const statements = policies
        .filter((policy) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
      const dynamo = statements.filter((statement) => [statement.Action].flat().some((action) => action.startsWith('dynamodb:')));
      expect(dynamo, route.id).toHaveLength(1);
      expect(dynamo[0]!.Resource, route.id).toEqual(tableArn);
      expect([dynamo[0]!.Action].flat().sort(), route.id).toEqual([...route.tableActions].sort());
      const others = statements.filter((statement) => statement !== dynamo[0]);
      expect(
        others.map((statement) => [statement.Action].flat()),
        route.id,
      ).toEqual([['logs:CreateLogStream', 'logs:PutLogEvents']]);
    }
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

  it('page on any Lambda error or throttle, per function', () => {
    for (const route of routes) {
      for (const [suffix, metricName] of [
        ['Errors', 'Errors'],
        ['Throttles', 'Throttles'],
      ] as const) {
        expect(alarmNamed(sandbox, `${route.id}${suffix}`)).toMatchObject({
          Namespace: 'AWS/Lambda',
          MetricName: metricName,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(sandbox.stack, sandbox.stack.functions.get(route.id)!.function) } }],
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
    expect(throttles.Metrics.find((metric: { Expression?: string }) => metric.Expression).Expression).toBe('reads + writes');
    const throttleInputs = throttles.Metrics.filter((metric: any) => metric.MetricStat).map((metric: any) => metric.MetricStat.Metric);
    expect(throttleInputs).toEqual([
      { Namespace: 'AWS/DynamoDB', MetricName: 'ReadThrottleEvents', Dimensions: [{ Name: 'TableName', Value: tableRef }] },
      { Namespace: 'AWS/DynamoDB', MetricName: 'WriteThrottleEvents', Dimensions: [{ Name: 'TableName', Value: tableRef }] },
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

  it('are all listed above, and all go to one topic that accepts only TLS', () => {
    const alarms = Object.values(resourcesOf(sandbox, 'AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(1 + 2 * routes.length + 2);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([topicRef()]);
    sandbox.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
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
  it('graph the rush: API, holds and sold-outs by strategy, Lambda, DynamoDB capacity, throttles, conflicts', () => {
    const body = JSON.stringify(Object.values(resourcesOf(sandbox, 'AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody);
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

  it('output the API URL and the table name', () => {
    sandbox.template.hasOutput('ApiUrl', { Value: { 'Fn::Join': ['', Match.arrayWith(['https://', '.execute-api.'])] } });
    sandbox.template.hasOutput('TableName', { Value: { Ref: logicalId(sandbox.stack, sandbox.stack.table.table) } });
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
    expect([...acknowledged.keys()].sort()).toEqual(['AwsSolutions-APIG4', 'AwsSolutions-COG2', 'AwsSolutions-COG8', 'AwsSolutions-L1', 'AwsSolutions-SNS2']);
    // Buyers are no longer anonymous: only the public event page is acknowledged as unauthenticated.
    expect(acknowledged.get('AwsSolutions-APIG4')).toEqual([expect.stringMatching(/^GET \/events\/\{eventId\} is public/)]);
  });
});
