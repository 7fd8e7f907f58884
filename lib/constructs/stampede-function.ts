import { resolve } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { loadConfig } from '../../functions/config';
import type { JobDefinition } from '../jobs';
import type { TableAction } from '../routes';
import { nodeFunctionDefaults, pinnedRuntimeReason, projectRoot } from './function-defaults';

/** Variables that must never reach a deployed function (see functions/config.ts). */
const forbiddenVariables = ['DYNAMODB_ENDPOINT', 'STAMPEDE_ALLOW_UNSAFE'] as const;

/** The one IAM action granted on indexes, and only there. */
const indexAction: TableAction = 'dynamodb:Query';

/**
 * What a function runs and what it may do to the table: a route of lib/routes.ts or a job of
 * lib/jobs.ts (both fit as they are).
 */
interface FunctionDefinition extends Pick<JobDefinition, 'id' | 'entry' | 'description' | 'tableActions'> {
  /** Indexes of the table it queries: `dynamodb:Query` is granted on these, and nowhere else. @default - none */
  readonly indexes?: readonly string[];
}

export interface StampedeFunctionProps {
  readonly definition: FunctionDefinition;
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
 * "A Stampede function": one handler module built with the shared defaults (function-defaults.ts),
 * with its own log group and its own role that may write to that log group and do to the table
 * exactly `definition.tableActions`: Query on the indexes it lists, every other action on the
 * table itself. Route functions and job functions alike.
 */
export class StampedeFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: StampedeFunctionProps) {
    super(scope, id);
    const { definition, table } = props;
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
      description: `Stampede ${definition.id}: its log group, ${describeGrants(definition)}`,
    });
    this.logGroup.grantWrite(role);
    grantTableActions(role, table, definition);

    this.function = new NodejsFunction(this, 'Function', {
      ...nodeFunctionDefaults(),
      description: definition.description,
      entry: resolve(projectRoot, definition.entry),
      handler: 'handler',
      memorySize: props.memorySize ?? 1024,
      timeout,
      role,
      logGroup: this.logGroup,
      environment,
    });
    Validations.of(this.function).acknowledge({ id: 'AwsSolutions-L1', reason: pinnedRuntimeReason });
  }
}

/**
 * Exactly the listed actions, each on exactly what it needs. Not `table.grant()`: on a table
 * with indexes it also grants every action on `<table>/index/*`, to every function.
 */
function grantTableActions(role: IRole, table: ITable, definition: FunctionDefinition): void {
  const { onTable, indexes } = splitGrants(definition);
  if (onTable.length > 0) role.addToPrincipalPolicy(new PolicyStatement({ actions: onTable, resources: [table.tableArn] }));
  if (indexes.length > 0) {
    role.addToPrincipalPolicy(new PolicyStatement({ actions: [indexAction], resources: indexes.map((index) => `${table.tableArn}/index/${index}`) }));
  }
}

/** The actions granted on the table, and the indexes Query is granted on. */
function splitGrants(definition: FunctionDefinition): { onTable: TableAction[]; indexes: readonly string[] } {
  const indexes = definition.indexes ?? [];
  const queries = definition.tableActions.includes(indexAction);
  if (queries !== indexes.length > 0) {
    throw new Error(
      `${definition.id}: ${indexAction} is granted on the indexes a function lists and nowhere else: ` +
        `list both the action and its indexes, or neither (it has ${queries ? 'the action but no index' : 'indexes but not the action'}).`,
    );
  }
  return { onTable: definition.tableActions.filter((action) => action !== indexAction), indexes };
}

function describeGrants(definition: FunctionDefinition): string {
  const { onTable, indexes } = splitGrants(definition);
  const onIndexes = indexes.length > 0 ? ` and ${indexAction} on the index ${indexes.join(', ')}` : '';
  return `${onTable.join(', ')} on the table${onIndexes}`;
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
