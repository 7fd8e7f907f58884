import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, type ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RouteDefinition } from '../routes';

/**
 * Default stage throttling. The account's API Gateway quota is 10,000 requests/s (burst
 * 5,000) per Region, shared by every API in it; a sandbox stage should not take all of it.
 * 1,000 requests/s also matches the default Lambda concurrency of one Region.
 */
export const defaultThrottle = { rateLimit: 1_000, burstLimit: 2_000 } as const satisfies ThrottleSettings;

export interface StampedeApiProps {
  readonly stageName: string;
  /** One function per route of the route table. */
  readonly routes: readonly { readonly route: RouteDefinition; readonly handler: IFunction }[];
  /** Requests per second (steady) and burst for every route of the stage. @default defaultThrottle */
  readonly throttle?: ThrottleSettings;
  /** @default one month */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The HTTP API: one route per route-table entry, each integrated with its own function
 * (payload format 2.0, as the local server emulates), served on the `$default` stage with
 * throttling and JSON access logs.
 */
export class StampedeApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: StampedeApiProps) {
    super(scope, id);
    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: `stampede-${props.stageName}`,
      description: `Stampede flash-sale ticketing (${props.stageName})`,
      // The stage is created below: the default one cannot take throttling or access logs.
      createDefaultStage: false,
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttle?.rateLimit ?? defaultThrottle.rateLimit,
        burstLimit: props.throttle?.burstLimit ?? defaultThrottle.burstLimit,
      },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: accessLogFormat,
      },
    });
    for (const { route, handler } of props.routes) {
      this.httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${route.id}Integration`, handler),
      });
    }
  }

  /** The API's base URL, ending in `/`. */
  get url(): string {
    return this.stage.url;
  }
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
  }),
);
