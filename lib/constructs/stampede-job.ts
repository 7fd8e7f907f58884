import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import type { ScheduledJob } from '../jobs';
import { StampedeFunction, type StampedeFunctionProps } from './stampede-function';

export interface StampedeJobProps extends Omit<StampedeFunctionProps, 'definition'> {
  /** The job of lib/jobs.ts: its handler, table actions, indexes and schedule. */
  readonly job: ScheduledJob;
  /**
   * Longer than a sweep of a large backlog takes (16 settlements at a time: thousands of holds
   * in seconds), at most the schedule's period so one run and the next never overlap for long.
   * A run cut off by it loses nothing: the next one finds what is left. More than the period
   * is refused at synth.
   * @default 60 seconds
   */
  readonly timeout?: Duration;
}

/**
 * A job of lib/jobs.ts on AWS: a Stampede function like the route functions (same defaults,
 * configuration, own log group and least-privilege role) and the EventBridge rule that invokes
 * it on the job's schedule.
 *
 * No reserved concurrency of 1 (which would also make every run beyond it a throttle): a job must
 * be safe to run twice at once, a slow run and the next. The sweeper is: every transition it makes
 * is a conditional write, so each hold comes back exactly once whoever gets there first. And no
 * retries: a failed run is retried by the next scheduled one, with what is due by then.
 */
export class StampedeJob extends StampedeFunction {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: StampedeJobProps) {
    const { job } = props;
    const timeout = props.timeout ?? Duration.seconds(60);
    const period = Duration.minutes(job.everyMinutes);
    // The alarm on what a job leaves overdue is built from everyMinutes: it must be the schedule's.
    const rate = /^rate\((\d+) minutes?\)$/.exec(job.schedule);
    if (Number(rate?.[1]) !== job.everyMinutes) {
      throw new Error(
        `${job.id}: schedule '${job.schedule}' is not every ${job.everyMinutes} minute(s) (everyMinutes): use 'rate(<n> minute[s])' and say the same n in both.`,
      );
    }
    if (timeout.toSeconds() > period.toSeconds()) {
      throw new Error(`${job.id}: its timeout (${timeout.toSeconds()} s) must not exceed its schedule's period (${period.toSeconds()} s), or runs pile up.`);
    }
    super(scope, id, { ...props, definition: { ...job, description: `${job.schedule}: ${job.description}` }, timeout });

    // Lambda retries a failed asynchronous invocation twice by default, and keeps one it could
    // not run (throttled in a rush) for up to 6 hours: both would only repeat a later run.
    this.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: period });
    this.rule = new Rule(this, 'Schedule', {
      description: `Stampede ${job.id}: ${job.description}`,
      schedule: Schedule.expression(job.schedule),
      // EventBridge's own retries (of a delivery Lambda refused) would only repeat the next run, too.
      targets: [new LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
