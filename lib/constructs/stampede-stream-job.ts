import { Duration, Validations } from 'aws-cdk-lib';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type EventSourceMapping, FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { loadConfig } from '../../functions/config';
import type { StreamJob } from '../jobs';
import { StampedeFunction, type StampedeFunctionProps } from './stampede-function';

export interface StampedeStreamJobProps extends Omit<StampedeFunctionProps, 'definition'> {
  /** The job of lib/jobs.ts: its handler, table actions, filter, batch size and retries. */
  readonly job: StreamJob;
  /**
   * Far longer than a batch takes. A batch of 500 log entries is about a second of work (five
   * batched reads, at most six inventory transactions, rejections 16 at a time); a chunk that meets
   * conflicts or throttles retries up to 30 times with backoff capped at 2 s (about 50 s in the worst
   * case) before the handler gives up and reports its first undecided record itself. Two minutes
   * leave room for that, so Lambda does not cut a batch off (which would retry all of it) while it
   * still works.
   * @default 2 minutes
   */
  readonly timeout?: Duration;
  /**
   * Batches of one stream shard that run at once. 1, because first come, first served needs it:
   * above 1, Lambda keeps order only per item (partition *and* sort key, "Concurrent reads of a
   * shard" in https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html), and every log entry is
   * an item of its own, so two entries of one log key could be decided in two batches at once, the
   * later one first. At 1 a shard's batches run one after another, in the shard's order. (Higher
   * would stay safe, never fair: every decision is a conditional transaction, `available >= :total`
   * and `status = QUEUED`, functions/data/queue-decisions.ts.) The cost: a record that arrives while
   * its shard's batch runs waits for that batch, then its own, and one stream shard is decided at
   * about a batch of up to 500 a second.
   * @default 1
   */
  readonly parallelizationFactor?: number;
}

/**
 * The actions Lambda's poller needs on the stream, with the function's role, as AWS documents
 * them for a function reading a DynamoDB stream, on this table's stream only:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-example-lamda-process-dynamodb-streams.html
 * Not `table.grantStreamRead()`: it grants `dynamodb:ListStreams` on `*` (every stream of the
 * account). ListStreams supports no resource-level permission, so on the stream ARN it allows
 * nothing beyond the other three: it stays only because the documented policy (and the check
 * CreateEventSourceMapping makes, whose error names all four) lists it. The mapping names its
 * stream by ARN and never lists streams.
 */
const streamReadActions = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'] as const;

/** The one action an SQS on-failure destination needs (not `grantSendMessages`, which adds GetQueueAttributes and GetQueueUrl). */
const failureQueueAction = 'sqs:SendMessage';

/**
 * A stream job of lib/jobs.ts on AWS: a Stampede function like the others (same defaults,
 * configuration, own log group and least-privilege role) and the Lambda event source mapping that
 * feeds it the table's stream: the job's filter (the same pattern the local poller applies), batch
 * size and retries, a failed batch split in two (bisect) and partial failures reported by the
 * handler, and the batches it gives up on recorded in an encrypted SQS queue, whose messages
 * alarm. https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
 */
export class StampedeStreamJob extends StampedeFunction {
  readonly mapping: EventSourceMapping;
  /** Lambda's record of each batch it gave up on (retries or record age exhausted): shard and sequence numbers, not the records. */
  readonly failures: Queue;

  constructor(scope: Construct, id: string, props: StampedeStreamJobProps) {
    const { job, table } = props;
    const streamArn = table.tableStreamArn;
    if (!streamArn) throw new Error(`${job.id} reads the table's stream, but the table has none: set streamViewType in lib/table-schema.ts.`);
    const timeout = props.timeout ?? Duration.minutes(2);
    super(scope, id, { ...props, definition: { ...job, description: `Table stream: ${job.description}` }, timeout });

    // Kept 14 days (SQS's most): long enough to be read after a holiday; its messages only point
    // into the stream, which keeps records 24 hours.
    this.failures = new Queue(this, 'Failures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the failure destination of the stream mapping: Lambda writes a record of each batch it gave up on. ' +
        'Nothing consumes it (an operator reads it after its alarm), so no message can fail processing and need a queue of its own.',
    });

    this.function.addToRolePolicy(new PolicyStatement({ actions: [...streamReadActions], resources: [streamArn] }));
    this.function.addToRolePolicy(new PolicyStatement({ actions: [failureQueueAction], resources: [this.failures.queueArn] }));
    const role = this.function.role?.node.defaultChild as CfnRole;
    role.description = `${role.description}; the table's stream (read) and its failure queue (send)`;

    this.mapping = this.function.addEventSourceMapping('TableStream', {
      eventSourceArn: streamArn,
      // From the oldest record the stream keeps: a mapping created (or re-created) after requests
      // came still decides those younger than maxRecordAge (older ones go to the failure queue: the
      // sweeper rejects their requests at the decision timeout); what is decided already is skipped.
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: job.batchSize,
      // Latency over batching: buyers wait about a second at the door for their decision.
      maxBatchingWindow: Duration.seconds(0),
      filters: [FilterCriteria.filter(job.filter)],
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts: job.maxRetries,
      maxRecordAge: maxRecordAge(job, props.environment),
      parallelizationFactor: props.parallelizationFactor ?? 1,
      onFailure: { bind: () => ({ destination: this.failures.queueArn }) },
    });
  }
}

/**
 * A record older than the decision timeout (STAMPEDE_QUEUE_DECISION_TIMEOUT_MS, 5 minutes by
 * default) is a request the sweeper rejects (not_decided) or already has: deciding it is moot, so the
 * mapping skips it (to the failure queue, which alarms) rather than hold newer requests behind it.
 */
function maxRecordAge(job: StreamJob, environment: Readonly<Record<string, string>> = {}): Duration {
  // TABLE_NAME is a CloudFormation token until deploy and Lambda sets AWS_REGION itself.
  const { queueDecisionTimeoutMs } = loadConfig({ ...environment, TABLE_NAME: 'table-name-at-deploy', AWS_REGION: 'region-at-deploy' });
  const seconds = Math.ceil(queueDecisionTimeoutMs / 1000);
  if (seconds < 60) {
    throw new Error(
      `${job.id}: STAMPEDE_QUEUE_DECISION_TIMEOUT_MS (${queueDecisionTimeoutMs} ms) is the stream mapping's maximum record age, and Lambda takes at least 60 s: raise it.`,
    );
  }
  return Duration.seconds(seconds);
}
