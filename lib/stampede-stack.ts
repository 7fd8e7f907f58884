import { CfnOutput, Fn, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { loadConfig } from '../functions/config';
import { loadTestAudience, loadTestIssuerPath } from '../functions/handlers/load-test-issuer-config';
import { StampedeApi, type TrustedIssuer } from './constructs/stampede-api';
import { StampedeFunction } from './constructs/stampede-function';
import { StampedeIdentity } from './constructs/stampede-identity';
import { StampedeJob } from './constructs/stampede-job';
import { type AlarmThresholds, StampedeMonitoring } from './constructs/stampede-monitoring';
import { StampedeStreamJob } from './constructs/stampede-stream-job';
import { StampedeTable } from './constructs/stampede-table';
import { queueDeciderJob, sweeperJob } from './jobs';
import { type RouteDefinition, routeKey, routes as routeTable } from './routes';
import { requireSandboxStage, type StageSettings } from './stage';

/**
 * Who issues the tokens the stage accepts: a Cognito user pool of its own (`cognito`), an
 * existing OIDC issuer (`oidc`), or, on a sandbox stage only, its own load-test issuer.
 */
export type TokenIssuer = { readonly kind: 'cognito' } | TrustedIssuer;

export interface StampedeStackProps extends StackProps {
  readonly stage: StageSettings;
  /** @default the route table of lib/routes.ts */
  readonly routes?: readonly RouteDefinition[];
  /** API stage throttling. @default 1,000 requests/s, burst 2,000 (see StampedeApi) */
  readonly throttle?: ThrottleSettings;
  /** @default { kind: 'cognito' }: a user pool of the stack's own */
  readonly tokenIssuer?: TokenIssuer;
  /** Origins browsers may call the API from. @default - none: no CORS configuration */
  readonly corsOrigins?: readonly string[];
  /** @default see StampedeMonitoring's defaultAlarmThresholds */
  readonly alarmThresholds?: AlarmThresholds;
  /** Subscribed to the alarm topic. @default - no subscription: subscribe in the console */
  readonly alarmEmail?: string;
  /** Extra function configuration (functions/config.ts variables). @default - none */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /** @default one month for sandbox stages, one year for protected ones */
  readonly logRetention?: RetentionDays;
}

/** The route that takes the rush: its graphs lead the dashboard. */
const hotRouteId = 'ReserveTickets';

/**
 * One stage of Stampede: the table, one function per route, the scheduled sweeper, the consumer
 * of the table's stream that decides `queued` requests, the HTTP API with its token issuer, alarms
 * and a dashboard. Outputs the API URL, the table name, how to get a token and where the
 * consumer's failed batches go.
 */
export class StampedeStack extends Stack {
  readonly table: StampedeTable;
  /** The route functions, by route id. */
  readonly functions: ReadonlyMap<string, StampedeFunction>;
  /** Returns expired holds and undoes interrupted ones, on its schedule (lib/jobs.ts). */
  readonly sweeper: StampedeJob;
  /** Decides `queued` events' requests in arrival order, fed by the table's stream (lib/jobs.ts). */
  readonly queueDecider: StampedeStreamJob;
  readonly api: StampedeApi;
  /** The stage's own user pool, unless it trusts another issuer. */
  readonly identity?: StampedeIdentity;
  readonly monitoring: StampedeMonitoring;

  constructor(scope: Construct, id: string, props: StampedeStackProps) {
    super(scope, id, props);
    const { stage } = props;
    const logs = {
      logRetention: props.logRetention ?? (stage.protected ? RetentionDays.ONE_YEAR : RetentionDays.ONE_MONTH),
      logRemovalPolicy: stage.protected ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    };
    const metricsNamespace = `Stampede/${stage.name}`;

    this.table = new StampedeTable(this, 'Data', { protected: stage.protected });
    const routes = props.routes ?? routeTable;
    const functionSettings = { table: this.table.table, metricsNamespace, environment: props.functionEnvironment, ...logs };
    this.functions = new Map(
      routes.map((route) => [
        route.id,
        new StampedeFunction(this, route.id, { ...functionSettings, definition: { ...route, description: `${routeKey(route)}: ${route.description}` } }),
      ]),
    );
    this.sweeper = new StampedeJob(this, sweeperJob.id, { ...functionSettings, job: sweeperJob });
    this.queueDecider = new StampedeStreamJob(this, queueDeciderJob.id, { ...functionSettings, job: queueDeciderJob });
    const handlers = new Map<string, IFunction>([...this.functions].map(([id, fn]) => [id, fn.function]));

    const tokenIssuer = props.tokenIssuer ?? { kind: 'cognito' };
    if (tokenIssuer.kind === 'loadTest') requireSandboxStage(stage, 'loadTestIssuerJwk');
    if (tokenIssuer.kind === 'oidc' && isLoadTestIssuer(tokenIssuer)) requireSandboxStage(stage, 'jwtIssuer');
    let tokens: TrustedIssuer;
    if (tokenIssuer.kind === 'cognito') {
      this.identity = new StampedeIdentity(this, 'Identity', {
        stageName: stage.name,
        protected: stage.protected,
        organizerGroup: organizerGroup(props.functionEnvironment),
      });
      tokens = { kind: 'oidc', issuer: this.identity.issuer, audience: [this.identity.client.userPoolClientId] };
    } else {
      tokens = tokenIssuer;
    }
    this.api = new StampedeApi(this, 'Api', {
      stageName: stage.name,
      routes: routes.map((route) => ({
        route,
        handler: handlers.get(route.id)!,
        publicReason:
          route.access === 'public'
            ? `${routeKey(route)} is public in the route table (access 'public'): anyone may read it without a token, by design ` +
              '(the event page before and during a sale). It only reads, and it is throttled at its own, lower limit.'
            : undefined,
      })),
      tokens,
      throttle: props.throttle,
      corsOrigins: props.corsOrigins,
      ...logs,
    });
    // Watched like the route functions: errors and throttles alarm for each.
    handlers.set(sweeperJob.id, this.sweeper.function);
    handlers.set(queueDeciderJob.id, this.queueDecider.function);
    const issuerFunction = this.api.loadTestIssuer?.function;
    if (issuerFunction) handlers.set('LoadTestIssuer', issuerFunction);
    this.monitoring = new StampedeMonitoring(this, 'Monitoring', {
      stageName: stage.name,
      api: this.api.httpApi,
      table: this.table.table,
      functions: handlers,
      sweeper: { function: this.sweeper.function, everyMinutes: sweeperJob.everyMinutes },
      queueDecider: { id: queueDeciderJob.id, function: this.queueDecider.function, failureQueue: this.queueDecider.failures },
      hotRouteId,
      metricsNamespace,
      thresholds: props.alarmThresholds,
      alarmEmail: props.alarmEmail,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the Stampede API' });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName, description: 'The DynamoDB table' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn, description: 'Subscribe here for alarms' });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName, description: 'CloudWatch dashboard' });
    new CfnOutput(this, 'DecisionFailureQueueUrl', {
      value: this.queueDecider.failures.queueUrl,
      description: 'Batches of queued requests the stream consumer gave up on (see docs/deploy.md)',
    });
    new CfnOutput(this, 'JwtIssuer', { value: this.api.trust.issuer, description: 'The issuer (iss) of the tokens the API accepts' });
    new CfnOutput(this, 'JwtAudience', { value: Fn.join(',', [...this.api.trust.audience]), description: 'The audiences (aud) it accepts' });
    if (this.identity) {
      new CfnOutput(this, 'UserPoolId', { value: this.identity.userPool.userPoolId, description: 'Cognito user pool of the stage' });
      new CfnOutput(this, 'UserPoolClientId', { value: this.identity.client.userPoolClientId, description: 'App client to get tokens from' });
      new CfnOutput(this, 'GetTokenCommand', { value: this.identity.getTokenCommand, description: 'Prints an ID token for a user of the pool' });
    } else if (tokenIssuer.kind === 'loadTest') {
      new CfnOutput(this, 'GetTokenCommand', {
        value: Fn.join('', ['npm run token -- --sub alice --load-test-key <private.jwk.json> --target ', this.api.url]),
        description: 'Mints a token this stage trusts with the load-test private key, offline (add --group organizers for an organizer)',
      });
    } else {
      new CfnOutput(this, 'GetTokenCommand', {
        value: 'Ask your issuer (JwtIssuer) for an ID or access token whose aud is one of JwtAudience',
        description: 'This stage trusts your own OIDC issuer',
      });
    }

    acknowledgeNagFindings(this);
  }
}

/**
 * cdk-nag AwsSolutions findings this design accepts, each with its reason. Everything else
 * the checks report fails `cdk synth`.
 */
function acknowledgeNagFindings(stack: StampedeStack): void {
  // Also acknowledged where they arise: AwsSolutions-APIG4 on each public route (StampedeApi,
  // with the route's reason), the Cognito findings (StampedeIdentity) and the pinned runtime.
  Validations.of(stack.monitoring.topic).acknowledge({
    id: 'AwsSolutions-SNS2',
    reason:
      'Alarm notifications carry no customer data. CloudWatch cannot publish to a topic encrypted with the AWS managed ' +
      'SNS key, and a customer managed KMS key would cost each sandbox stage $1/month.',
  });
}

/** The group the functions check organizers against (STAMPEDE_ORGANIZER_GROUP), read as they read it. */
/** An OIDC issuer that is really some stage's load-test issuer (`-c jwtIssuer=https://…/load-test-issuer`). */
function isLoadTestIssuer({ issuer, audience }: { readonly issuer: string; readonly audience: readonly string[] }): boolean {
  return issuer.replace(/\/+$/, '').endsWith(loadTestIssuerPath) || audience.includes(loadTestAudience);
}

function organizerGroup(environment: Readonly<Record<string, string>> = {}): string {
  return loadConfig({ ...environment, TABLE_NAME: 'table-name-at-deploy', AWS_REGION: 'region-at-deploy' }).organizerGroup;
}
