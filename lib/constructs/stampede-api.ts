import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnStage,
  CorsHttpMethod,
  type CorsPreflightOptions,
  HttpApi,
  HttpMethod,
  type HttpRoute,
  HttpStage,
  LogGroupLogDestination,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type LoadTestPublicJwk, loadTestAudience } from '../../functions/handlers/load-test-issuer-config';
import { type RouteDefinition, routeKey } from '../routes';
import { LoadTestIssuer } from './load-test-issuer';

/**
 * Default stage throttling. The account's API Gateway quota is 10,000 requests/s (burst
 * 5,000) per Region, shared by every API in it; a sandbox stage should not take all of it.
 * 1,000 requests/s also matches the default Lambda concurrency of one Region.
 */
export const defaultThrottle = { rateLimit: 1_000, burstLimit: 2_000 } as const satisfies ThrottleSettings;

/** One route and the function that serves it. */
export interface ApiRoute {
  readonly route: Pick<RouteDefinition, 'id' | 'method' | 'path' | 'access'>;
  readonly handler: IFunction;
  /** Why anyone may call it without a token: required for a public route (cdk-nag AwsSolutions-APIG4). */
  readonly publicReason?: string;
}

/**
 * Whose tokens the routes that are not public accept: an OIDC issuer (a Cognito user pool or
 * any other) with the audiences to accept, or the API's own load-test issuer, served under
 * `/load-test-issuer` with the public key given (sandbox stages only: see lib/stage.ts).
 */
export type TrustedIssuer =
  | { readonly kind: 'oidc'; readonly issuer: string; readonly audience: readonly string[] }
  | { readonly kind: 'loadTest'; readonly publicJwk: LoadTestPublicJwk };

export interface StampedeApiProps {
  readonly stageName: string;
  /** One function per route of the route table. */
  readonly routes: readonly ApiRoute[];
  readonly tokens: TrustedIssuer;
  /** Requests per second (steady) and burst for each route of the stage. @default defaultThrottle */
  readonly throttle?: ThrottleSettings;
  /**
   * Each public route's own, lower limit, so a flood of the event page cannot take the
   * account's requests, the Region's Lambda concurrency and the table's reads that holds need.
   * @default a quarter of `throttle`
   */
  readonly publicRouteThrottle?: ThrottleSettings;
  /**
   * Origins browsers may call the API from, e.g. `https://tickets.example.com`.
   * @default - none: no CORS configuration, browsers on other origins cannot call the API
   */
  readonly corsOrigins?: readonly string[];
  /** @default one month */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The HTTP API: one route per route-table entry, each integrated with its own function
 * (payload format 2.0, as the local server emulates), served on the `$default` stage with
 * throttling and JSON access logs. Every route that is not public takes `Authorization:
 * Bearer <JWT>`, checked by API Gateway's JWT authorizer before any function runs.
 */
export class StampedeApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  /** The issuer and audiences the JWT authorizer accepts. */
  readonly trust: { readonly issuer: string; readonly audience: readonly string[] };
  /** Set when the API serves its own load-test issuer. */
  readonly loadTestIssuer?: LoadTestIssuer;
  /** The routes anyone may call without a token, by route key. */
  readonly publicRoutes = new Map<string, HttpRoute>();

  constructor(scope: Construct, id: string, props: StampedeApiProps) {
    super(scope, id);
    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: `stampede-${props.stageName}`,
      description: `Stampede flash-sale ticketing (${props.stageName})`,
      // The stage is created below: the default one cannot take throttling or access logs.
      createDefaultStage: false,
      corsPreflight: props.corsOrigins?.length ? corsPreflight(props.corsOrigins, props.routes) : undefined,
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    const throttle = {
      rateLimit: props.throttle?.rateLimit ?? defaultThrottle.rateLimit,
      burstLimit: props.throttle?.burstLimit ?? defaultThrottle.burstLimit,
    };
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: accessLogFormat,
      },
    });

    const routes = [...props.routes];
    if (props.tokens.kind === 'loadTest') {
      // A load-test stage trusts its own issuer only: real users belong on a normal stage.
      this.loadTestIssuer = new LoadTestIssuer(this, 'LoadTestIssuer', {
        // The execute-api URL the `$default` stage serves, from the API id (as the ApiUrl output).
        apiEndpoint: `https://${this.httpApi.apiId}.execute-api.${Stack.of(this).region}.${Stack.of(this).urlSuffix}`,
        publicJwk: props.tokens.publicJwk,
        logRetention: props.logRetention,
        logRemovalPolicy: props.logRemovalPolicy,
      });
      routes.push(...this.loadTestIssuer.routes);
      this.trust = { issuer: this.loadTestIssuer.issuer, audience: [loadTestAudience] };
    } else {
      this.trust = { issuer: props.tokens.issuer, audience: props.tokens.audience };
    }
    const authorizer = new HttpJwtAuthorizer('TokenAuthorizer', this.trust.issuer, {
      identitySource: ['$request.header.Authorization'],
      jwtAudience: [...this.trust.audience],
    });

    for (const { route, handler, publicReason } of routes) {
      const isPublic = route.access === 'public';
      if (isPublic && !publicReason) throw new Error(`${routeKey(route)} is public: say why anyone may call it without a token (publicReason).`);
      const [httpRoute] = this.httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${route.id}Integration`, handler),
        authorizer: isPublic ? undefined : authorizer,
      });
      if (isPublic) {
        this.publicRoutes.set(routeKey(route), httpRoute!);
        Validations.of(httpRoute!).acknowledge({ id: 'AwsSolutions-APIG4', reason: publicReason! });
      }
    }
    this.throttlePublicRoutes(props.publicRouteThrottle ?? quarterOf(throttle));
  }

  /** The API's base URL, ending in `/`. */
  get url(): string {
    return this.stage.url;
  }

  /**
   * HTTP API throttles each route on its own, at the stage's default unless a route setting
   * says otherwise; the L2 stage has no per-route throttling, so set `RouteSettings` on the
   * CloudFormation stage. A route setting naming a route that does not exist yet fails the
   * deploy ("Unable to find Route by key"), hence the dependencies.
   * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html
   */
  private throttlePublicRoutes(limit: ThrottleSettings): void {
    const settings = { ThrottlingRateLimit: limit.rateLimit, ThrottlingBurstLimit: limit.burstLimit };
    (this.stage.node.defaultChild as CfnStage).routeSettings = Object.fromEntries([...this.publicRoutes.keys()].map((key) => [key, settings]));
    for (const route of this.publicRoutes.values()) this.stage.node.addDependency(route);
  }
}

function quarterOf(throttle: Required<ThrottleSettings>): ThrottleSettings {
  const quarter = (limit: number) => Math.max(1, Math.floor(limit / 4));
  return { rateLimit: quarter(throttle.rateLimit), burstLimit: quarter(throttle.burstLimit) };
}

/**
 * With a CORS configuration API Gateway answers preflight requests itself (no OPTIONS routes)
 * and adds the CORS headers to the functions' responses, ignoring any they send.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html
 */
function corsPreflight(origins: readonly string[], routes: readonly ApiRoute[]): CorsPreflightOptions {
  return {
    allowOrigins: [...origins],
    allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
    allowMethods: [...new Set(routes.map(({ route }) => route.method))].map((method) => CorsHttpMethod[method]),
    // Retry-After says when to retry a 503; Location, when an answer has one, where a new resource is.
    exposeHeaders: ['retry-after', 'location'],
    // Tokens travel in the Authorization header, never in cookies.
    allowCredentials: false,
    // A buyer's browser asks once an hour, not before every request of the rush.
    maxAge: Duration.hours(1),
  };
}

/**
 * One JSON object per request, with the variables HTTP APIs support.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
 */
const accessLogFormat = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    time: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    routeKey: '$context.routeKey',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationStatus: '$context.integrationStatus',
    integrationError: '$context.integrationErrorMessage',
    lambdaRequestId: '$context.integration.requestId',
    // Why the JWT authorizer refused a token (a 401 never reaches a function).
    authorizerError: '$context.authorizer.error',
  }),
);
