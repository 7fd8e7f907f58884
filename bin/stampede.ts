/**
 * The CDK app: `npx cdk deploy -c stage=<name>`. See README "Deploy to AWS".
 * No account or Region here: the stack deploys to whatever the AWS CLI credentials point at.
 */
import { App } from 'aws-cdk-lib';
import { buildStampede } from '../lib/app';
import { ContextError } from '../lib/stage';

try {
  buildStampede(new App());
} catch (error) {
  // A wrong or missing `-c` value deserves one clear line, not a stack trace.
  if (!(error instanceof ContextError)) throw error;
  console.error(`Error: ${error.message}`);
  process.exit(1);
}
