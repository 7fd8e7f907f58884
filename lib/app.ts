import { type App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ContextError, stageFromContext } from './stage';
import { StampedeStack } from './stampede-stack';

/**
 * Builds the Stampede app from its CDK context: `stage` (required), `protected`,
 * `alarmEmail`, `throttleRate`, `throttleBurst`. bin/stampede.ts and the infra tests both
 * use this, so the tests check the wiring that `cdk synth` runs.
 */
export function buildStampede(app: App): StampedeStack {
  const context = (key: string) => app.node.tryGetContext(key) as unknown;
  const stage = stageFromContext(context);
  const stack = new StampedeStack(app, `Stampede-${stage.name}`, {
    stage,
    description: `Stampede flash-sale ticketing, stage ${stage.name}${stage.protected ? ' (protected)' : ''}`,
    alarmEmail: optionalString(context('alarmEmail'), 'alarmEmail'),
    throttle: {
      rateLimit: optionalNumber(context('throttleRate'), 'throttleRate'),
      burstLimit: optionalNumber(context('throttleBurst'), 'throttleBurst'),
    },
  });
  Tags.of(stack).add('project', 'stampede');
  Tags.of(stack).add('stampede:stage', stage.name);
  // Every finding is an error at synth unless acknowledged with a reason (see StampedeStack).
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stack;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new ContextError(`'-c ${name}=' needs a value.`);
  return value;
}

function optionalNumber(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new ContextError(`'-c ${name}=${String(value)}' must be a positive whole number.`);
  return parsed;
}
