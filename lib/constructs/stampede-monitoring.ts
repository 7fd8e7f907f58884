import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { type StrategyName, strategies } from '../../functions/domain/model';
import type { MetricName } from '../../functions/domain/ports';

/** When an alarm fires. Every period is one minute. */
export interface AlarmThresholds {
  /**
   * Share of API requests answered 5xx, in percent, for three minutes in a row. Deliberate
   * 503s (contention, throughput exceeded; the client retries after Retry-After) count too,
   * so a short burst of them in a rush does not page anyone; three minutes of them does.
   * @default 5
   */
  readonly api5xxRatePercent?: number;
  /**
   * Lambda errors of one function in a minute. Handlers answer every error they know with a
   * response, so a Lambda error is a crash, a timeout or a bad configuration.
   * @default 1
   */
  readonly lambdaErrors?: number;
  /** Throttled invocations of one function in a minute (concurrency limit reached). @default 1 */
  readonly lambdaThrottles?: number;
  /** Read plus write throttle events on the table in a minute. @default 1 */
  readonly tableThrottleEvents?: number;
  /**
   * Item writes rejected for a transaction conflict, per minute, three minutes in a row. A
   * rush always has some (they are retried); a sustained stream means too few shards.
   * @default 100
   */
  readonly transactionConflicts?: number;
}

export const defaultAlarmThresholds: Required<AlarmThresholds> = {
  api5xxRatePercent: 5,
  lambdaErrors: 1,
  lambdaThrottles: 1,
  tableThrottleEvents: 1,
  transactionConflicts: 100,
};

export interface StampedeMonitoringProps {
  readonly stageName: string;
  readonly api: HttpApi;
  readonly table: ITable;
  /** The route functions by route id; alarms and graphs are made for each. */
  readonly functions: ReadonlyMap<string, IFunction>;
  /** The route whose function takes the rush; its latency and concurrency are graphed. */
  readonly hotRouteId: string;
  /** The namespace the functions write their Powertools metrics to. */
  readonly metricsNamespace: string;
  readonly thresholds?: AlarmThresholds;
  /** An address subscribed to the alarm topic (it must confirm by mail). @default - none */
  readonly alarmEmail?: string;
}

const minute = Duration.minutes(1);

/** Strategies a deployed stage can run: `unsafe` is refused unless STAMPEDE_ALLOW_UNSAFE, never set on AWS. */
const deployedStrategies = strategies.filter((strategy) => strategy !== 'unsafe');

/**
 * Alarms to an SNS topic and a dashboard of the rush: requests and errors at the door, holds
 * and sold-outs by strategy, Lambda latency and concurrency, DynamoDB capacity, throttles and
 * transaction conflicts.
 */
export class StampedeMonitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;
  private readonly stageName: string;

  constructor(scope: Construct, id: string, props: StampedeMonitoringProps) {
    super(scope, id);
    this.stageName = props.stageName;
    const thresholds = { ...defaultAlarmThresholds, ...props.thresholds };
    const { api, table, stageName } = props;

    this.topic = new Topic(this, 'AlarmTopic', { displayName: `Stampede ${stageName} alarms`, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const requests = api.metricCount({ period: minute, statistic: 'Sum', label: 'requests' });
    const serverErrors = api.metricServerError({ period: minute, statistic: 'Sum', label: '5xx' });
    const clientErrors = api.metricClientError({ period: minute, statistic: 'Sum', label: '4xx' });
    const serverErrorRate = new MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { requests, errors: serverErrors },
      period: minute,
      label: '5xx rate (%)',
    });
    this.alarm('Api5xxRate', {
      metric: serverErrorRate,
      threshold: thresholds.api5xxRatePercent,
      evaluationPeriods: 3,
      description: `At least ${thresholds.api5xxRatePercent}% of API requests answered 5xx, 3 minutes in a row.`,
    });

    for (const [routeId, fn] of props.functions) {
      this.alarm(`${routeId}Errors`, {
        metric: fn.metricErrors({ period: minute, statistic: 'Sum' }),
        threshold: thresholds.lambdaErrors,
        evaluationPeriods: 1,
        description: `${routeId}: Lambda invocation errors (crash, timeout or configuration).`,
      });
      this.alarm(`${routeId}Throttles`, {
        metric: fn.metricThrottles({ period: minute, statistic: 'Sum' }),
        threshold: thresholds.lambdaThrottles,
        evaluationPeriods: 1,
        description: `${routeId}: Lambda throttled invocations (concurrency limit).`,
      });
    }

    const tableMetric = (metricName: string, label: string) => table.metric(metricName, { period: minute, statistic: 'Sum', label });
    const throttleEvents = new MathExpression({
      expression: 'reads + writes',
      usingMetrics: {
        reads: tableMetric('ReadThrottleEvents', 'read throttle events'),
        writes: tableMetric('WriteThrottleEvents', 'write throttle events'),
      },
      period: minute,
      label: 'throttle events',
    });
    this.alarm('TableThrottles', {
      metric: throttleEvents,
      threshold: thresholds.tableThrottleEvents,
      evaluationPeriods: 1,
      description: 'DynamoDB throttled reads or writes on the Stampede table.',
    });
    const conflicts = tableMetric('TransactionConflict', 'transaction conflicts');
    this.alarm('TransactionConflicts', {
      metric: conflicts,
      threshold: thresholds.transactionConflicts,
      evaluationPeriods: 3,
      description: `At least ${thresholds.transactionConflicts} transaction conflicts a minute, 3 minutes in a row: consider more shards.`,
    });

    const hot = props.functions.get(props.hotRouteId);
    if (!hot) throw new Error(`No function for the hot route '${props.hotRouteId}'.`);
    const byStrategy = (metricName: MetricName) => deployedStrategies.map((strategy) => this.strategyMetric(props.metricsNamespace, metricName, strategy));
    const perFunction = (metric: (fn: IFunction) => IMetric) => [...props.functions.values()].map(metric);

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `stampede-${stageName}`,
      defaultInterval: Duration.hours(1),
    });
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) => new GraphWidget({ title, left, right, width: 8, height: 6 });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# Stampede ${stageName}\nThe rush at a glance: per-minute sums unless a graph says otherwise.`,
        width: 24,
        height: 1,
      }),
    );
    this.dashboard.addWidgets(
      graph('API requests and errors', [requests, clientErrors, serverErrors]),
      graph('API latency (ms)', [
        api.metricLatency({ period: minute, statistic: 'p50', label: 'p50' }),
        api.metricLatency({ period: minute, statistic: 'p99', label: 'p99' }),
        api.metricIntegrationLatency({ period: minute, statistic: 'p99', label: 'integration p99' }),
      ]),
      graph('5xx rate (%)', [serverErrorRate]),
    );
    this.dashboard.addWidgets(
      graph('Holds by strategy', byStrategy('ReservationCreated')),
      graph('Sold-out answers by strategy', byStrategy('SoldOut'), byStrategy('SoldOutWithoutWrite')),
      graph('Conflicts and retries by strategy', byStrategy('Conflict'), byStrategy('Retry')),
    );
    this.dashboard.addWidgets(
      graph(`${props.hotRouteId} duration (ms)`, [
        hot.metricDuration({ period: minute, statistic: 'p50', label: 'p50' }),
        hot.metricDuration({ period: minute, statistic: 'p99', label: 'p99' }),
      ]),
      graph(`${props.hotRouteId} concurrent executions`, [
        hot.metric('ConcurrentExecutions', { period: minute, statistic: 'Maximum', label: 'max concurrency' }),
      ]),
      graph(
        'Lambda errors and throttles',
        perFunction((fn) => fn.metricErrors({ period: minute, statistic: 'Sum' })),
        perFunction((fn) => fn.metricThrottles({ period: minute, statistic: 'Sum' })),
      ),
    );
    this.dashboard.addWidgets(
      graph('DynamoDB consumed capacity (units/min)', [tableMetric('ConsumedWriteCapacityUnits', 'WCU'), tableMetric('ConsumedReadCapacityUnits', 'RCU')]),
      graph('DynamoDB throttles and transaction conflicts', [throttleEvents], [conflicts]),
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 8, height: 6 }),
    );
  }

  private alarm(id: string, options: { metric: IMetric; threshold: number; evaluationPeriods: number; description: string }): void {
    const alarm = new Alarm(this, id, {
      alarmName: `stampede-${this.stageName}-${id}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      evaluationPeriods: options.evaluationPeriods,
      datapointsToAlarm: options.evaluationPeriods,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No traffic is no problem: an idle stage stays quiet.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }

  private strategyMetric(namespace: string, metricName: MetricName, strategy: StrategyName): Metric {
    return new Metric({
      namespace,
      metricName,
      // Powertools adds the `service` dimension to every metric (POWERTOOLS_SERVICE_NAME).
      dimensionsMap: { service: 'stampede', strategy },
      period: minute,
      statistic: 'Sum',
      label: `${metricName} ${strategy}`,
    });
  }
}
