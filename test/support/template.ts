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
};

/** `Fn::GetAtt [<resource>, Arn]`, per resource type, from the resource's name. */
const { region, accountId } = deployment;
const arnFormats: Record<string, (name: string) => string> = {
  'AWS::DynamoDB::Table': (name) => `arn:aws:dynamodb:${region}:${accountId}:table/${name}`,
  'AWS::Lambda::Function': (name) => `arn:aws:lambda:${region}:${accountId}:function:${name}`,
  'AWS::IAM::Role': (name) => `arn:aws:iam::${accountId}:role/${name}`,
  'AWS::Logs::LogGroup': (name) => `arn:aws:logs:${region}:${accountId}:log-group:${name}:*`,
};

export interface PolicyStatement {
  readonly Effect: string;
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
}

export interface HttpApiRoute {
  readonly apiId: string;
  /** Logical id of the function the route invokes. */
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
        const route = { apiId: this.property(routeId, 'ApiId') as string, functionId: this.idOfArn(functionArn, 'AWS::Lambda::Function') };
        return [this.property(routeId, 'RouteKey') as string, route];
      }),
    );
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
    return pseudoParameters[id] ?? this.physicalName(id);
  }

  private getAtt(id: string, attribute: string): string {
    if (attribute === 'Arn') return this.arn(id);
    // A stream's label is the time it was enabled: any fixed one will do, no function reads its stream by ARN.
    if (attribute === 'StreamArn' && this.resource(id).Type === 'AWS::DynamoDB::Table') return `${this.arn(id)}/stream/2026-01-01T00:00:00.000`;
    throw new Error(`Cannot resolve Fn::GetAtt ${id}.${attribute}: add it to ResolvedTemplate.`);
  }
}
