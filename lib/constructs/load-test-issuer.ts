import { resolve } from 'node:path';
import { Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  discoveryPath,
  jwksPath,
  type LoadTestPublicJwk,
  loadTestIssuerConfig,
  loadTestIssuerPath,
  loadTestIssuerVariables,
} from '../../functions/handlers/load-test-issuer-config';
import { nodeFunctionDefaults, pinnedRuntimeReason, projectRoot } from './function-defaults';
import type { ApiRoute } from './stampede-api';

export interface LoadTestIssuerProps {
  /** The API's base URL without the trailing `/` (a token until deploy); the issuer lives under it. */
  readonly apiEndpoint: string;
  /** The public half of the key the load-test tokens are signed with. */
  readonly publicJwk: LoadTestPublicJwk;
  /** @default one month */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * An OIDC issuer served by the API itself, so a rush against a sandbox stage needs no
 * 100,000 real users: a tiny function publishes the discovery document and the public key
 * (functions/handlers/load-test-issuer.ts); whoever holds the private key mints tokens. It has
 * its own log group and a role that may write to it, nothing else: no table.
 */
export class LoadTestIssuer extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  /** `<API base URL>/load-test-issuer`: what the API's JWT authorizer trusts. */
  readonly issuer: string;
  /** Its two public routes, for StampedeApi to add. */
  readonly routes: readonly ApiRoute[];

  constructor(scope: Construct, id: string, props: LoadTestIssuerProps) {
    super(scope, id);
    this.issuer = `${props.apiEndpoint}${loadTestIssuerPath}`;
    const environment = {
      [loadTestIssuerVariables.issuer]: this.issuer,
      [loadTestIssuerVariables.publicJwk]: JSON.stringify(props.publicJwk),
      NODE_OPTIONS: '--enable-source-maps',
    };
    // The function's own parser, at synth: a bad key fails here, not at the first token check.
    // The issuer is a token until deploy; check its shape with a stand-in.
    loadTestIssuerConfig({
      ...environment,
      [loadTestIssuerVariables.issuer]: Token.isUnresolved(this.issuer)
        ? `https://api-at-deploy.execute-api.region-at-deploy.amazonaws.com${loadTestIssuerPath}`
        : this.issuer,
    });

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Stampede load-test issuer: its log group only',
    });
    this.logGroup.grantWrite(role);

    this.function = new NodejsFunction(this, 'Function', {
      ...nodeFunctionDefaults(),
      description: `Load-test token issuer: GET ${discoveryPath} and ${jwksPath}`,
      entry: resolve(projectRoot, 'functions/handlers/load-test-issuer.ts'),
      handler: 'handler',
      // Two constant documents: little memory, and API Gateway waits at most 1,500 ms for them anyway.
      memorySize: 256,
      timeout: Duration.seconds(3),
      role,
      logGroup: this.logGroup,
      environment,
    });
    Validations.of(this.function).acknowledge({ id: 'AwsSolutions-L1', reason: pinnedRuntimeReason });

    const publicReason =
      'OIDC discovery and the key set are public by definition: API Gateway fetches them without a token to check load-test tokens. ' +
      'They hold only the public key, exist on sandbox stages only, and are throttled like every public route.';
    this.routes = [
      { route: { id: 'LoadTestDiscovery', method: 'GET', path: discoveryPath, access: 'public' }, handler: this.function, publicReason },
      { route: { id: 'LoadTestKeys', method: 'GET', path: jwksPath, access: 'public' }, handler: this.function, publicReason },
    ];
  }
}
