import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
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
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { sweepIndex } from '../../functions/data/sweep-index';
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
  /**
   * Minutes the oldest due reservation (an expired hold, or an interrupted one due for repair)
   * may wait for the sweeper, two periods in a row. It is 0 or about one period when the sweeper
   * keeps up; more means it fails or falls behind.
   * @default 5
   */
  readonly sweepOverdueMinutes?: number;
  /**
   * Seconds the `queued` consumer's oldest record (its IteratorAge) may have waited, two minutes
   * in a row. Requests are answered 202 after about a second at the door and wait for their
   * decision; at STAMPEDE_QUEUE_DECISION_TIMEOUT_MS (5 minutes) the sweeper rejects them
   * (not_decided). A consumer that keeps up is at a second or two; a minute means it fails, is
   * throttled or falls behind, with minutes left to act before requests time out.
   * @default 60
   */
  readonly queueIteratorAgeSeconds?: number;
}

export const defaultAlarmThresholds: Required<AlarmThresholds> = {
  api5xxRatePercent: 5,
  lambdaErrors: 1,
  lambdaThrottles: 1,
  tableThrottleEvents: 1,
  transactionConflicts: 100,
  sweepOverdueMinutes: 5,
  queueIteratorAgeSeconds: 60,
};

export interface StampedeMonitoringProps {
  readonly stageName: string;
  readonly api: HttpApi;
  readonly table: ITable;
  /** Every function by id (routes, jobs, the load-test issuer); errors and throttles alarm for each. */
  readonly functions: ReadonlyMap<string, IFunction>;
  /** The scheduled sweeper: an alarm on what it leaves overdue, and a row of the dashboard. */
  readonly sweeper: SweeperMonitoring;
  /** The `queued` strategy's stream consumer: alarms on how far behind it is and on batches it gave up, and a row of the dashboard. */
  readonly queueDecider: QueueDeciderMonitoring;
  /** The route whose function takes the rush; its latency and concurrency are graphed. */
  readonly hotRouteId: string;
  /** The namespace the functions write their Powertools metrics to. */
  readonly metricsNamespace: string;
  readonly thresholds?: AlarmThresholds;
  /** An address subscribed to the alarm topic (it must confirm by mail). @default - none */
  readonly alarmEmail?: string;
}

/** The scheduled sweeper (lib/jobs.ts sweeperJob) as monitoring sees it. */
interface SweeperMonitoring {
  readonly function: IFunction;
  /** How often it runs: each run publishes OldestDueAge once, so this is the alarm's period. */
  readonly everyMinutes: number;
}

/** The `queued` strategy's stream consumer (lib/jobs.ts queueDeciderJob) as monitoring sees it. */
interface QueueDeciderMonitoring {
  /** Its id among `functions`: its alarms are named after it. */
  readonly id: string;
  readonly function: IFunction;
  /** Where its event source mapping records the batches it gave up on. */
  readonly failureQueue: IQueue;
}

/** What the sweeper publishes (functions/observability/sweep-metrics.ts), with the `service` dimension only. */
type SweepMetricName = 'HoldsExpired' | 'TicketsReturnedByExpiry' | 'HoldsRepaired' | 'QueuedRequestsTimedOut' | 'SweepLag' | 'OldestDueAge';

const minute = Duration.minutes(1);

/** Strategies a deployed stage can run: `unsafe` is refused unless STAMPEDE_ALLOW_UNSAFE, never set on AWS. */
const deployedStrategies = strategies.filter((strategy) => strategy !== 'unsafe');

/** Every alarm of a stage is named `stampede-<stage>-<id>`: the topic lets those publish (and, by the prefix, those of a stage of the same account named `<stage>-…`). */
const alarmNamePrefix = (stageName: string) => `stampede-${stageName}-`;

/**
 * Alarms to an SNS topic and a dashboard of the rush: requests and errors at the door, holds
 * and sold-outs by strategy, Lambda latency and concurrency, DynamoDB capacity, throttles and
 * transaction conflicts, what the sweeper returns to sale and leaves overdue, and how far the
 * `queued` consumer is behind.
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
    // enforceSSL gives the topic a policy of its own, which replaces SNS's default policy (the one
    // that lets the account's alarms publish): without this Allow, every alarm would change state
    // and fail to notify, visible only in its history ("not authorized to perform: SNS:Publish").
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': Stack.of(this).formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: `${alarmNamePrefix(stageName)}*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        },
      }),
    );
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
    // The TableName dimension alone leaves out the indexes' throttles, and a throttled sweep index
    // throttles the table's writes (functions/data/sweep-index.ts): its own series are added.
    const indexMetric = (metricName: string, label: string) =>
      table.metric(metricName, {
        period: minute,
        statistic: 'Sum',
        label,
        dimensionsMap: { TableName: table.tableName, GlobalSecondaryIndexName: sweepIndex.name },
      });
    // A throttle metric has points only when something was throttled, so each term is filled with 0.
    const throttleEvents = new MathExpression({
      expression: 'FILL(reads, 0) + FILL(writes, 0) + FILL(indexReads, 0) + FILL(indexWrites, 0)',
      usingMetrics: {
        reads: tableMetric('ReadThrottleEvents', 'read throttle events'),
        writes: tableMetric('WriteThrottleEvents', 'write throttle events'),
        indexReads: indexMetric('ReadThrottleEvents', 'sweep index read throttle events'),
        indexWrites: indexMetric('WriteThrottleEvents', 'sweep index write throttle events'),
      },
      period: minute,
      label: 'throttle events',
    });
    this.alarm('TableThrottles', {
      metric: throttleEvents,
      threshold: thresholds.tableThrottleEvents,
      evaluationPeriods: 1,
      description: 'DynamoDB throttled reads or writes on the Stampede table or its sweep index.',
    });
    const conflicts = tableMetric('TransactionConflict', 'transaction conflicts');
    this.alarm('TransactionConflicts', {
      metric: conflicts,
      threshold: thresholds.transactionConflicts,
      evaluationPeriods: 3,
      description: `At least ${thresholds.transactionConflicts} transaction conflicts a minute, 3 minutes in a row: consider more shards.`,
    });

    // The sweeper publishes OldestDueAge on every run that read its whole index, 0 when nothing is due (sweep-metrics.ts).
    const { sweeper } = props;
    const sweepPeriod = Duration.minutes(sweeper.everyMinutes);
    const sweepMetric = (metricName: SweepMetricName, statistic: string, label: string, period = minute) =>
      new Metric({
        namespace: props.metricsNamespace,
        metricName,
        // The sweeper's metrics carry Powertools' `service` dimension and nothing else.
        dimensionsMap: { service: 'stampede' },
        period,
        statistic,
        label,
      });
    const oldestDue = sweepMetric('OldestDueAge', 'Maximum', 'oldest due (ms)', sweepPeriod);
    const overdueMs = Duration.minutes(thresholds.sweepOverdueMinutes).toMilliseconds();
    this.alarm('SweepOverdue', {
      metric: oldestDue,
      threshold: overdueMs,
      // Two periods: EventBridge runs the sweeper somewhere within each minute, so one period
      // may see no run while the next sees two; a sweeper that stopped misses both.
      evaluationPeriods: 2,
      description:
        `A due reservation (an expired hold, or an interrupted one to undo) has waited ${thresholds.sweepOverdueMinutes} minutes or more for the sweeper, ` +
        `2 periods in a row. No data counts too: the sweeper publishes OldestDueAge on every run that read its whole index (0 when nothing is due), ` +
        'so no data means it is not running or cannot read its index (schedule disabled, function failing or throttled: see its other alarms and its log).',
      treatMissingData: TreatMissingData.BREACHING,
    });

    // The queued consumer: how old the records it is handed are (Lambda's IteratorAge, published
    // with each invocation) and what its event source mapping gave up on.
    const { queueDecider } = props;
    const iteratorAge = queueDecider.function.metric('IteratorAge', { period: minute, statistic: 'Maximum', label: 'iterator age max (ms)' });
    const iteratorAgeMs = Duration.seconds(thresholds.queueIteratorAgeSeconds).toMilliseconds();
    this.alarm(`${queueDecider.id}IteratorAge`, {
      metric: iteratorAge,
      threshold: iteratorAgeMs,
      evaluationPeriods: 2,
      description:
        `The queued consumer was handed records ${thresholds.queueIteratorAgeSeconds} s old or more, 2 minutes in a row: queued requests wait that long ` +
        'for their decision (answered 202), and at STAMPEDE_QUEUE_DECISION_TIMEOUT_MS (5 min) the sweeper rejects them (not_decided). ' +
        'It fails to decide and retries (its DecisionFailures alarm; a crash or a timeout shows in Errors), is throttled (Throttles) or falls behind ' +
        '(duration on the dashboard).',
    });
    // A failed decision is reported to the mapping as a partial batch failure, so the invocation
    // succeeds and Lambda's Errors stays 0: the consumer counts it itself.
    const decisionFailures = this.strategyMetric(props.metricsNamespace, 'QueueDecisionFailed', 'queued');
    this.alarm(`${queueDecider.id}DecisionFailures`, {
      metric: decisionFailures,
      threshold: 1,
      evaluationPeriods: 3,
      description:
        'The queued consumer could not decide a batch, 3 minutes in a row (DynamoDB throttled it or failed; its log says why): the stream delivers the batch ' +
        'again, so requests wait for their decision (answered 202) and, past STAMPEDE_QUEUE_DECISION_TIMEOUT_MS, are rejected (not_decided) by the sweeper.',
    });
    const failedBatches = queueDecider.failureQueue.metricApproximateNumberOfMessagesVisible({
      period: minute,
      statistic: 'Maximum',
      label: 'failed batches waiting',
    });
    this.alarm(`${queueDecider.id}FailedBatches`, {
      metric: failedBatches,
      threshold: 1,
      evaluationPeriods: 1,
      description:
        'The queued consumer gave up on a batch of stream records (retries or record age exhausted): its failure queue holds the shard and sequence ' +
        'numbers. Its undecided requests took no ticket; they stay QUEUED until the sweeper rejects them (not_decided) and gives their buyers their limit back: nothing is lost. ' +
        'See docs/deploy.md (When the failure queue alarms).',
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

    const quarter = (title: string, left: IMetric[], right: IMetric[] = []) => new GraphWidget({ title, left, right, width: 6, height: 6 });
    this.dashboard.addWidgets(
      new TextWidget({ markdown: '## Sweeper\nExpired holds returned to sale and interrupted holds undone, by the scheduled function.', width: 24, height: 1 }),
    );
    this.dashboard.addWidgets(
      quarter('Returned by the sweeper (per minute)', [
        sweepMetric('TicketsReturnedByExpiry', 'Sum', 'tickets returned'),
        sweepMetric('HoldsExpired', 'Sum', 'holds expired'),
        sweepMetric('HoldsRepaired', 'Sum', 'holds repaired'),
        sweepMetric('QueuedRequestsTimedOut', 'Sum', 'queued requests timed out'),
      ]),
      quarter('Sweep lag: expiry to return (ms)', [
        sweepMetric('SweepLag', 'p50', 'p50'),
        sweepMetric('SweepLag', 'p99', 'p99'),
        sweepMetric('SweepLag', 'Maximum', 'max'),
      ]),
      new GraphWidget({
        title: 'Oldest due reservation (ms)',
        left: [oldestDue],
        leftAnnotations: [{ value: overdueMs, label: 'alarm' }],
        width: 6,
        height: 6,
      }),
      quarter(
        'Sweeper duration (ms) and errors',
        [
          sweeper.function.metricDuration({ period: minute, statistic: 'p99', label: 'duration p99' }),
          sweeper.function.metricDuration({ period: minute, statistic: 'Maximum', label: 'duration max' }),
        ],
        [sweeper.function.metricErrors({ period: minute, statistic: 'Sum', label: 'errors' })],
      ),
    );

    const decider = queueDecider.function;
    this.dashboard.addWidgets(
      new TextWidget({ markdown: "## Queued decisions\n`queued` requests decided in arrival order by the table stream's consumer.", width: 24, height: 1 }),
    );
    this.dashboard.addWidgets(
      quarter('Queued requests decided (per minute)', [
        this.strategyMetric(props.metricsNamespace, 'QueueHeld', 'queued'),
        this.strategyMetric(props.metricsNamespace, 'QueueRejected', 'queued'),
      ]),
      new GraphWidget({
        title: 'Decider iterator age (ms)',
        left: [iteratorAge],
        leftAnnotations: [{ value: iteratorAgeMs, label: 'alarm' }],
        width: 6,
        height: 6,
      }),
      quarter(
        'Decider invocations and errors',
        [decider.metricInvocations({ period: minute, statistic: 'Sum', label: 'invocations' })],
        [
          decider.metricErrors({ period: minute, statistic: 'Sum', label: 'errors' }),
          decider.metricThrottles({ period: minute, statistic: 'Sum', label: 'throttles' }),
          decisionFailures,
        ],
      ),
      quarter(
        'Decider duration (ms) and failed batches',
        [
          decider.metricDuration({ period: minute, statistic: 'p99', label: 'duration p99' }),
          decider.metricDuration({ period: minute, statistic: 'Maximum', label: 'duration max' }),
        ],
        [failedBatches],
      ),
    );
  }

  private alarm(
    id: string,
    options: { metric: IMetric; threshold: number; evaluationPeriods: number; description: string; treatMissingData?: TreatMissingData },
  ): void {
    const alarm = new Alarm(this, id, {
      alarmName: `${alarmNamePrefix(this.stageName)}${id}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      evaluationPeriods: options.evaluationPeriods,
      datapointsToAlarm: options.evaluationPeriods,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // By default, no traffic is no problem: an idle stage stays quiet.
      treatMissingData: options.treatMissingData ?? TreatMissingData.NOT_BREACHING,
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
