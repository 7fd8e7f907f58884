import { resolve } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { loadConfig } from '../../functions/config';
import type { RouteDefinition } from '../routes';

/** The repository root: route entries are relative to it. */
const projectRoot = resolve(__dirname, '..', '..');

/** Variables that must never reach a deployed function (see functions/config.ts). */
const forbiddenVariables = ['DYNAMODB_ENDPOINT', 'STAMPEDE_ALLOW_UNSAFE'] as const;

export interface StampedeFunctionProps {
  /** The route this function serves: its handler module and the table actions it may use. */
  readonly route: RouteDefinition;
  readonly table: ITable;
  /** CloudWatch namespace for the function's metrics (Powertools EMF). */
  readonly metricsNamespace: string;
  /**
   * Extra configuration variables (functions/config.ts), e.g. `STAMPEDE_MAX_SOCKETS`. Checked
   * at synth time with the same parser the function runs at cold start.
   * @default - none: the configuration defaults
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 1024 MiB: more memory is more CPU, which shortens the cold starts of a rush. */
  readonly memorySize?: number;
  /**
   * Bounded well below API Gateway's 30 s integration timeout. At least twice the hold budget
   * (`STAMPEDE_HOLD_BUDGET_MS`, 6 s by default), so a hold that runs out of time still has the
   * time to undo its steps before Lambda stops it: checked at synth.
   * @default 15 seconds
   */
  readonly timeout?: Duration;
  /** @default one month */
  readonly logRetention?: RetentionDays;
  /** What happens to the log group when the stack is deleted. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * "A Stampede function": one route's handler on Node.js 22, ARM64, bundled by the local
 * esbuild (never Docker), minified with source maps, with its own log group and its own role
 * that may write to that log group and do to the table exactly `route.tableActions`.
 */
export class StampedeFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: StampedeFunctionProps) {
    super(scope, id);
    const { route, table } = props;
    const timeout = props.timeout ?? Duration.seconds(15);
    const environment = functionEnvironment(table.tableName, props.metricsNamespace, props.environment, timeout);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    // An own role instead of the AWSLambdaBasicExecutionRole managed policy, which may write to
    // every log group in the account.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Stampede ${route.id}: its log group and ${route.tableActions.join(', ')} on the table`,
    });
    this.logGroup.grantWrite(role);
    table.grant(role, ...route.tableActions);

    requireLocalEsbuild();
    this.function = new NodejsFunction(this, 'Function', {
      description: `${route.method} ${route.path}: ${route.description}`,
      entry: resolve(projectRoot, route.entry),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: resolve(projectRoot, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout,
      role,
      logGroup: this.logGroup,
      environment,
      bundling: {
        // Local esbuild from node_modules; Docker is only a fallback when it is missing.
        forceDockerBundling: false,
        format: OutputFormat.CJS,
        target: 'node22',
        minify: true,
        sourceMap: true,
        // The maps point at the files in this repository; no need to ship the sources too.
        sourcesContent: false,
        // Ship the SDK version the code was tested with (package-lock.json), not the runtime's.
        bundleAwsSDK: true,
        externalModules: [],
        // Prefer the packages' ES modules: esbuild tree-shakes them (the SDK bundle shrinks by a third).
        mainFields: ['module', 'main'],
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime this project targets and tests for; it is a supported Lambda LTS runtime. ' +
        'Moving to a newer one is a deliberate change with a test run, not something a lint rule should make implicitly.',
    });
  }
}

/**
 * NodejsFunction falls back to bundling in Docker when it finds no esbuild; Stampede never
 * wants that (no Docker in CI, slower, and a different esbuild than the lock file's).
 */
function requireLocalEsbuild(): void {
  try {
    require.resolve('esbuild', { paths: [projectRoot] });
  } catch {
    throw new Error("esbuild is not installed: run 'npm ci'. Stampede bundles its functions with the local esbuild, never with Docker.");
  }
}

/**
 * The function's configuration: the table, metrics on, source-mapped stack traces. Validated
 * here with the function's own parser, so a bad value fails `cdk synth`, not a cold start.
 */
export function functionEnvironment(
  tableName: string,
  metricsNamespace: string,
  extra: Readonly<Record<string, string>> = {},
  timeout: Duration = Duration.seconds(15),
): Record<string, string> {
  for (const name of forbiddenVariables) {
    if (name in extra) throw new Error(`${name} must not be set on a deployed function: it is for local runs only.`);
  }
  const environment = {
    ...extra,
    TABLE_NAME: tableName,
    STAMPEDE_METRICS: '1',
    POWERTOOLS_SERVICE_NAME: 'stampede',
    POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
    POWERTOOLS_LOG_LEVEL: extra.POWERTOOLS_LOG_LEVEL ?? 'INFO',
    NODE_OPTIONS: '--enable-source-maps',
  };
  // TABLE_NAME is a CloudFormation token until deploy and Lambda sets AWS_REGION itself.
  const config = loadConfig({ ...environment, TABLE_NAME: 'table-name-at-deploy', AWS_REGION: 'region-at-deploy' });
  if (config.holdBudgetMs * 2 > timeout.toMilliseconds()) {
    throw new Error(
      `STAMPEDE_HOLD_BUDGET_MS (${config.holdBudgetMs} ms) must be at most half the function timeout (${timeout.toSeconds()} s): ` +
        'a hold that runs out of time needs the rest to undo its steps before Lambda stops it. Lower the budget or raise the timeout.',
    );
  }
  return environment;
}
