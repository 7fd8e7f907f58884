import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildStampede } from '../../lib/app';
import type { StampedeStack } from '../../lib/stampede-stack';

/** The feature flags `cdk synth` reads from cdk.json; an App built in a test must see them too. */
const cdkJsonContext = (JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

export interface Synthesized {
  readonly app: App;
  readonly stack: StampedeStack;
  readonly template: Template;
}

/**
 * The app `bin/stampede.ts` builds, for the given `-c` context (stage `test` unless given).
 * Asset bundling is skipped unless `bundle` is set: most tests look at the template only.
 */
export function synthStampede(context: Record<string, unknown> = {}, options: { bundle?: boolean; outdir?: string } = {}): Synthesized {
  const app = new App({
    outdir: options.outdir,
    context: {
      ...cdkJsonContext,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      stage: 'test',
      ...context,
    },
  });
  const stack = buildStampede(app);
  return { app, stack, template: Template.fromStack(stack) };
}
