import { CfnOutput, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { StampedeApi } from './constructs/stampede-api';
import { StampedeFunction } from './constructs/stampede-function';
import { type AlarmThresholds, StampedeMonitoring } from './constructs/stampede-monitoring';
import { StampedeTable } from './constructs/stampede-table';
import { type RouteDefinition, routes as routeTable } from './routes';
import type { StageSettings } from './stage';

export interface StampedeStackProps extends StackProps {
  readonly stage: StageSettings;
  /** @default the route table of lib/routes.ts */
  readonly routes?: readonly RouteDefinition[];
  /** API stage throttling. @default 1,000 requests/s, burst 2,000 (see StampedeApi) */
  readonly throttle?: ThrottleSettings;
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
 * One stage of Stampede: the table, one function per route, the HTTP API, alarms and a
 * dashboard. Outputs the API URL and the table name.
 */
export class StampedeStack extends Stack {
  readonly table: StampedeTable;
  readonly functions: ReadonlyMap<string, StampedeFunction>;
  readonly api: StampedeApi;
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
    this.functions = new Map(
      routes.map((route) => [
        route.id,
        new StampedeFunction(this, route.id, {
          route,
          table: this.table.table,
          metricsNamespace,
          environment: props.functionEnvironment,
          ...logs,
        }),
      ]),
    );
    const handlers = new Map<string, IFunction>([...this.functions].map(([id, fn]) => [id, fn.function]));

    this.api = new StampedeApi(this, 'Api', {
      stageName: stage.name,
      routes: routes.map((route) => ({ route, handler: handlers.get(route.id)! })),
      throttle: props.throttle,
      ...logs,
    });
    this.monitoring = new StampedeMonitoring(this, 'Monitoring', {
      stageName: stage.name,
      api: this.api.httpApi,
      table: this.table.table,
      functions: handlers,
      hotRouteId,
      metricsNamespace,
      thresholds: props.alarmThresholds,
      alarmEmail: props.alarmEmail,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the Stampede API' });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName, description: 'The DynamoDB table' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn, description: 'Subscribe here for alarms' });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName, description: 'CloudWatch dashboard' });

    acknowledgeNagFindings(this);
  }
}

/**
 * cdk-nag AwsSolutions findings this design accepts, each with its reason. Everything else
 * the checks report fails `cdk synth`.
 */
function acknowledgeNagFindings(stack: StampedeStack): void {
  Validations.of(stack.api).acknowledge({
    id: 'AwsSolutions-APIG4',
    reason:
      'Buyers are anonymous in this design (buyerId in the body, Idempotency-Key per request); the stage is throttled. ' +
      'Authentication (e.g. a JWT authorizer) is a product decision outside issue 3.',
  });
  Validations.of(stack.monitoring.topic).acknowledge({
    id: 'AwsSolutions-SNS2',
    reason:
      'Alarm notifications carry no customer data. CloudWatch cannot publish to a topic encrypted with the AWS managed ' +
      'SNS key, and a customer managed KMS key would cost each sandbox stage $1/month.',
  });
}
