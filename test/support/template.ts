/**
 * A synthesized CloudFormation template, read the way CloudFormation would deploy it: its
 * intrinsics resolved to the names and ARNs the resources would get in one account and
 * Region. The tests take everything they deploy locally from here (table definitions,
 * function environments, IAM policies, routes), never from the CDK code that wrote it.
 */

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

/** The account and Region the template is resolved for (Lambda's AWS_REGION, ARNs). */
export const deployment = { region: 'us-east-1', accountId: '123456789012', partition: 'aws', urlSuffix: 'amazonaws.com' } as const;

/** `{"Ref": "AWS::NoValue"}`: the property or list element is left out. */
const noValue = Symbol('AWS::NoValue');

const pseudoParameters: Record<string, string> = {
  'AWS::Region': deployment.region,
  'AWS::AccountId': deployment.accountId,
  'AWS::Partition': deployment.partition,
  'AWS::URLSuffix': deployment.urlSuffix,
};

/** The property that names a resource, for the types that may be named in the template. */
const nameProperties: Record<string, string> = {
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Events::Rule': 'Name',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
};

/** `Fn::GetAtt [<resource>, Arn]`, per resource type, from the resource's name. */
const { region, accountId } = deployment;
const arnFormats: Record<string, (name: string) => string> = {
  'AWS::DynamoDB::Table': (name) => `arn:aws:dynamodb:${region}:${accountId}:table/${name}`,
  'AWS::Lambda::Function': (name) => `arn:aws:lambda:${region}:${accountId}:function:${name}`,
  'AWS::IAM::Role': (name) => `arn:aws:iam::${accountId}:role/${name}`,
  'AWS::Logs::LogGroup': (name) => `arn:aws:logs:${region}:${accountId}:log-group:${name}:*`,
  'AWS::Events::Rule': (name) => `arn:aws:events:${region}:${accountId}:rule/${name}`,
  'AWS::SQS::Queue': (name) => `arn:aws:sqs:${region}:${accountId}:${name}`,
  'AWS::CloudWatch::Alarm': (name) => `arn:aws:cloudwatch:${region}:${accountId}:alarm:${name}`,
};

/** What `Ref` returns, for the types whose Ref is not their name. */
const refFormats: Record<string, (name: string) => string> = {
  'AWS::SQS::Queue': (name) => `https://sqs.${region}.amazonaws.com/${accountId}/${name}`,
};

/** A stream's label is the time it was enabled: any fixed one will do, as long as every reference agrees. */
const streamLabel = '2026-01-01T00:00:00.000';

export interface PolicyStatement {
  readonly Effect: string;
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
}

export interface HttpApiRoute {
  readonly apiId: string;
  /** Logical id of the function the route invokes. */
  readonly functionId: string;
  /** Who API Gateway lets through: `NONE` (anyone) or `JWT` (a valid token, whose claims the function gets). */
  readonly authorizationType: string;
}

/**
 * A Lambda event source mapping on a DynamoDB table's stream, as the template configures it: what
 * Lambda's poller reads, which records it keeps, how many it hands the function at once, and
 * where it records a batch it gave up on.
 */
export interface StreamMapping {
  readonly mappingId: string;
  /** Logical id of the function it invokes. */
  readonly functionId: string;
  /** Logical id of the table whose stream it reads. */
  readonly tableId: string;
  /** The stream's ARN, as the records' `eventSourceARN` carries it. */
  readonly streamArn: string;
  readonly startingPosition: string;
  /** Records per invocation at most (Lambda's default for DynamoDB: 100). */
  readonly batchSize: number;
  /** The filter patterns (FilterCriteria), parsed: a record is handed over if it matches any; every record without filters. */
  readonly filters: readonly unknown[];
  readonly functionResponseTypes: readonly string[];
  readonly bisectBatchOnFunctionError: boolean;
  readonly maximumRetryAttempts?: number;
  readonly maximumRecordAgeInSeconds?: number;
  readonly parallelizationFactor: number;
  /** Where Lambda records a batch it gave up on. */
  readonly onFailureArn?: string;
}

/** An EventBridge rule that invokes a function on a schedule. */
export interface ScheduledTarget {
  readonly ruleArn: string;
  /** `rate(1 minute)`, `cron(...)`. */
  readonly schedule: string;
  /** Logical id of the function it invokes. */
  readonly functionId: string;
}

export class ResolvedTemplate {
  /**
   * @param names physical names to use instead of CloudFormation's generated ones (e.g. a
   * table created for this run); other resources get `<stack>-<logicalId>`.
   */
  constructor(
    readonly template: CfnTemplate,
    readonly stackName: string,
    private readonly names: Readonly<Record<string, string>> = {},
  ) {}

  /** Logical ids of the resources of one type, in template order. */
  idsOfType(type: string): string[] {
    return Object.entries(this.template.Resources)
      .filter(([, resource]) => resource.Type === type)
      .map(([id]) => id);
  }

  /** A resource's property, intrinsics resolved. */
  property(id: string, name: string): unknown {
    return this.resolve(this.resource(id).Properties?.[name]);
  }

  /** What `Ref` returns: the resource's name (for the types used here). */
  physicalName(id: string): string {
    const resource = this.resource(id);
    const nameProperty = nameProperties[resource.Type];
    const named = nameProperty === undefined ? undefined : resource.Properties?.[nameProperty];
    return this.names[id] ?? (named === undefined ? `${this.stackName}-${id}` : this.resolveString(named));
  }

  arn(id: string): string {
    const format = arnFormats[this.resource(id).Type];
    if (!format) throw new Error(`No ARN format for ${id} (${this.resource(id).Type}): add it to arnFormats.`);
    return format(this.physicalName(id));
  }

  /** The statements of every policy attached to a role: its inline policies and the AWS::IAM::Policy resources naming it. */
  roleStatements(roleId: string): PolicyStatement[] {
    const roleName = this.physicalName(roleId);
    const attached = this.idsOfType('AWS::IAM::Policy')
      .filter((id) => (this.property(id, 'Roles') as string[] | undefined)?.includes(roleName))
      .map((id) => this.property(id, 'PolicyDocument'));
    const inline = ((this.property(roleId, 'Policies') ?? []) as { PolicyDocument: unknown }[]).map((policy) => policy.PolicyDocument);
    // A document's Statement may be one statement or a list of them.
    return [...attached, ...inline].flatMap((document) => [(document as { Statement: PolicyStatement | PolicyStatement[] }).Statement].flat());
  }

  /** The resource whose ARN is `arn` (e.g. a function's role, an integration's function). */
  idOfArn(arn: string, type: string): string {
    const id = this.idsOfType(type).find((candidate) => this.arn(candidate) === arn);
    if (!id) throw new Error(`No ${type} in the template has the ARN ${arn}.`);
    return id;
  }

  /** HTTP API routes by route key, with the function behind each: Route → Target → Integration → IntegrationUri. */
  httpApiRoutes(): Map<string, HttpApiRoute> {
    const integrations = new Map(this.idsOfType('AWS::ApiGatewayV2::Integration').map((id) => [`integrations/${this.physicalName(id)}`, id]));
    return new Map(
      this.idsOfType('AWS::ApiGatewayV2::Route').map((routeId) => {
        const integrationId = integrations.get(this.property(routeId, 'Target') as string);
        if (!integrationId) throw new Error(`Route ${routeId} targets no integration of the template.`);
        // A Lambda proxy integration's URI is the function ARN, or the invocation URI that wraps it.
        const uri = this.property(integrationId, 'IntegrationUri') as string;
        const functionArn = uri.match(/\/functions\/(.+)\/invocations$/)?.[1] ?? uri;
        const route = {
          apiId: this.property(routeId, 'ApiId') as string,
          functionId: this.idOfArn(functionArn, 'AWS::Lambda::Function'),
          authorizationType: (this.property(routeId, 'AuthorizationType') as string | undefined) ?? 'NONE',
        };
        return [this.property(routeId, 'RouteKey') as string, route];
      }),
    );
  }

  /** Every function an EventBridge rule invokes on a schedule, one entry per rule and target. */
  scheduledTargets(): ScheduledTarget[] {
    return this.idsOfType('AWS::Events::Rule')
      .filter((ruleId) => this.property(ruleId, 'ScheduleExpression') !== undefined && this.property(ruleId, 'State') !== 'DISABLED')
      .flatMap((ruleId) =>
        ((this.property(ruleId, 'Targets') ?? []) as { Arn: string }[]).map((target) => ({
          ruleArn: this.arn(ruleId),
          schedule: this.property(ruleId, 'ScheduleExpression') as string,
          functionId: this.idOfArn(target.Arn, 'AWS::Lambda::Function'),
        })),
      );
  }

  /** Every event source mapping of the template on a DynamoDB stream. */
  streamMappings(): StreamMapping[] {
    return this.idsOfType('AWS::Lambda::EventSourceMapping')
      .filter((mappingId) => /^arn:aws:dynamodb:.*\/stream\//.test(String(this.property(mappingId, 'EventSourceArn'))))
      .map((mappingId) => {
        const property = <T>(name: string) => this.property(mappingId, name) as T | undefined;
        const streamArn = this.resolveString(this.resource(mappingId).Properties?.EventSourceArn);
        const functionName = property<string>('FunctionName')!;
        const functionId = this.idsOfType('AWS::Lambda::Function').find((id) => [this.physicalName(id), this.arn(id)].includes(functionName));
        if (!functionId) throw new Error(`Event source mapping ${mappingId} invokes ${functionName}, no function of the template.`);
        const filters = property<{ Filters?: { Pattern: string }[] }>('FilterCriteria')?.Filters ?? [];
        return {
          mappingId,
          functionId,
          tableId: this.idOfArn(streamArn.replace(/\/stream\/[^/]+$/, ''), 'AWS::DynamoDB::Table'),
          streamArn,
          startingPosition: property<string>('StartingPosition')!,
          batchSize: property<number>('BatchSize') ?? 100,
          filters: filters.map((filter) => JSON.parse(filter.Pattern) as unknown),
          functionResponseTypes: property<string[]>('FunctionResponseTypes') ?? [],
          bisectBatchOnFunctionError: property<boolean>('BisectBatchOnFunctionError') ?? false,
          maximumRetryAttempts: property<number>('MaximumRetryAttempts'),
          maximumRecordAgeInSeconds: property<number>('MaximumRecordAgeInSeconds'),
          parallelizationFactor: property<number>('ParallelizationFactor') ?? 1,
          onFailureArn: property<{ OnFailure?: { Destination: string } }>('DestinationConfig')?.OnFailure?.Destination,
        };
      });
  }

  /** Whether a resource policy statement (AWS::Lambda::Permission) lets `principal` invoke the function, from `sourceArn`. */
  mayInvoke(functionId: string, principal: string, sourceArn: string): boolean {
    const names = [this.arn(functionId), this.physicalName(functionId)];
    return this.idsOfType('AWS::Lambda::Permission').some((id) => {
      const source = this.property(id, 'SourceArn') as string | undefined;
      return (
        this.property(id, 'Action') === 'lambda:InvokeFunction' &&
        names.includes(this.property(id, 'FunctionName') as string) &&
        this.property(id, 'Principal') === principal &&
        (source === undefined || source === sourceArn)
      );
    });
  }

  /** Any value with its intrinsics resolved; throws on one it cannot resolve. */
  resolve(value: unknown): unknown {
    const resolved = this.resolveValue(value);
    return resolved === noValue ? undefined : resolved;
  }

  resolveString(value: unknown): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string') throw new Error(`Expected a string, got ${JSON.stringify(value)}.`);
    return resolved;
  }

  private resource(id: string): CfnResource {
    const resource = this.template.Resources[id];
    if (!resource) throw new Error(`No resource ${id} in the template.`);
    return resource;
  }

  private resolveValue(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((element) => this.resolveValue(element)).filter((element) => element !== noValue);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [name, argument] = entries[0] ?? [];
    if (entries.length === 1 && name !== undefined && (name === 'Ref' || name.startsWith('Fn::'))) return this.intrinsic(name, argument);
    return Object.fromEntries(entries.map(([key, element]) => [key, this.resolveValue(element)]).filter(([, element]) => element !== noValue));
  }

  private intrinsic(name: string, argument: unknown): string | typeof noValue {
    switch (name) {
      case 'Ref':
        return this.ref(argument as string);
      case 'Fn::GetAtt': {
        const [id, attribute] = typeof argument === 'string' ? argument.split('.') : (argument as string[]);
        return this.getAtt(id!, attribute!);
      }
      case 'Fn::Join': {
        const [separator, parts] = argument as [string, unknown[]];
        return (this.resolveValue(parts) as unknown[]).map((part) => this.resolveString(part)).join(separator);
      }
      case 'Fn::Sub': {
        const [text, variables = {}] = typeof argument === 'string' ? [argument, {}] : (argument as [string, Record<string, unknown>]);
        return text.replace(/\$\{([^}]+)\}/g, (_match, reference: string) => {
          if (reference.startsWith('!')) return `\${${reference.slice(1)}}`; // ${!Literal}
          if (reference in variables) return this.resolveString(variables[reference]);
          const [id, attribute] = reference.split('.');
          return attribute === undefined ? String(this.ref(id!)) : this.getAtt(id!, attribute);
        });
      }
      default:
        throw new Error(`Cannot resolve ${name} ${JSON.stringify(argument)}: add it to ResolvedTemplate.`);
    }
  }

  private ref(id: string): string | typeof noValue {
    if (id === 'AWS::NoValue') return noValue;
    if (id === 'AWS::StackName') return this.stackName;
    if (pseudoParameters[id]) return pseudoParameters[id];
    const refFormat = refFormats[this.resource(id).Type];
    return refFormat ? refFormat(this.physicalName(id)) : this.physicalName(id);
  }

  private getAtt(id: string, attribute: string): string {
    if (attribute === 'Arn') return this.arn(id);
    const type = this.resource(id).Type;
    if (attribute === 'StreamArn' && type === 'AWS::DynamoDB::Table') return `${this.arn(id)}/stream/${streamLabel}`;
    if (attribute === 'QueueName' && type === 'AWS::SQS::Queue') return this.physicalName(id);
    throw new Error(`Cannot resolve Fn::GetAtt ${id}.${attribute}: add it to ResolvedTemplate.`);
  }
}
