import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config';
import { discoveryPath, jwksPath, loadTestIssuerVariables, parseLoadTestJwk } from '../../functions/handlers/load-test-issuer-config';
import { defaultThrottle } from '../../lib/constructs/stampede-api';
import { routeKey, routes } from '../../lib/routes';
import { ContextError } from '../../lib/stage';
import { StampedeStack } from '../../lib/stampede-stack';
import { type Synthesized, synthStampede } from './synth';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; DependsOn?: string[] };

const resourcesOf = ({ template }: Synthesized, type: string) => template.findResources(type) as Record<string, Resource>;
const logicalIdOf = ({ stack }: Synthesized, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

/** Route key → the route's AuthorizationType and authorizer. */
function routeAuthorization(synthesized: Synthesized) {
  return new Map(
    Object.values(resourcesOf(synthesized, 'AWS::ApiGatewayV2::Route')).map((route) => [
      route.Properties.RouteKey as string,
      { type: route.Properties.AuthorizationType as string, authorizerId: route.Properties.AuthorizerId as unknown },
    ]),
  );
}

function theAuthorizer(synthesized: Synthesized) {
  const authorizers = Object.entries(resourcesOf(synthesized, 'AWS::ApiGatewayV2::Authorizer'));
  expect(authorizers).toHaveLength(1);
  const [id, authorizer] = authorizers[0]!;
  return { id, ...authorizer.Properties } as Record<string, any> & { id: string };
}

function rsaJwk(modulusLength = 2048): Record<string, unknown> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength });
  return {
    public: { ...publicKey.export({ format: 'jwk' }), kid: 'load-test-1', alg: 'RS256' },
    private: { ...privateKey.export({ format: 'jwk' }), kid: 'k', alg: 'RS256' },
  };
}

const publicRouteKey = 'GET /events/{eventId}';
let keyDir: string;
let keyFile: string;
let keys: Record<string, any>;
let cognito: Synthesized;
let loadTest: Synthesized;

beforeAll(() => {
  keyDir = mkdtempSync(join(tmpdir(), 'stampede-jwk-'));
  keys = rsaJwk();
  keyFile = join(keyDir, 'load-test.public.jwk.json');
  writeFileSync(keyFile, JSON.stringify(keys.public));
  cognito = synthStampede();
  loadTest = synthStampede({ loadTestIssuerJwk: keyFile });
});
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

describe('the JWT authorizer', () => {
  it('guards every route of the route table but the public event page', () => {
    const { id } = theAuthorizer(cognito);
    const authorization = routeAuthorization(cognito);
    expect([...authorization.keys()].sort()).toEqual(routes.map(routeKey).sort());
    for (const route of routes) {
      const expected = route.access === 'public' ? { type: 'NONE', authorizerId: undefined } : { type: 'JWT', authorizerId: { Ref: id } };
      expect(authorization.get(routeKey(route)), routeKey(route)).toEqual(expected);
    }
    expect([...authorization].filter(([, { type }]) => type === 'NONE').map(([key]) => key)).toEqual([publicRouteKey]);
  });

  it('takes the token from the Authorization header', () => {
    expect(theAuthorizer(cognito)).toMatchObject({ AuthorizerType: 'JWT', IdentitySource: ['$request.header.Authorization'] });
  });
});

describe('the default issuer: a Cognito user pool of the stage', () => {
  it('signs users in by email, has the organizers group the functions check, and a strong password policy', () => {
    const pool = logicalIdOf(cognito, cognito.stack.identity!.userPool);
    cognito.template.resourceCountIs('AWS::Cognito::UserPool', 1);
    cognito.template.hasResourceProperties('AWS::Cognito::UserPool', {
      UsernameAttributes: ['email'],
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: { PasswordPolicy: { MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true } },
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
    });
    const organizerGroup = loadConfig({ TABLE_NAME: 'any-table', AWS_REGION: 'any' }).organizerGroup;
    expect(organizerGroup).toBe('organizers');
    cognito.template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: organizerGroup, UserPoolId: { Ref: pool } });
  });

  it('has an app client a CLI can get tokens from: no secret, USER_PASSWORD_AUTH and USER_SRP_AUTH, no OAuth redirects', () => {
    cognito.template.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    cognito.template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH']),
      AllowedOAuthFlowsUserPoolClient: false,
      PreventUserExistenceErrors: 'ENABLED',
    });
  });

  it('is what the authorizer trusts: the pool as issuer, the app client as audience', () => {
    const pool = logicalIdOf(cognito, cognito.stack.identity!.userPool);
    const client = logicalIdOf(cognito, cognito.stack.identity!.client);
    expect(theAuthorizer(cognito).JwtConfiguration).toEqual({
      Issuer: { 'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: pool }]] },
      Audience: [{ Ref: client }],
    });
  });

  it('is deleted with a sandbox stage and kept, with deletion protection, by a protected one', () => {
    cognito.template.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ DeletionProtection: 'INACTIVE' }) });
    synthStampede({ stage: 'prod' }).template.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtection: 'ACTIVE' }),
    });
  });

  it('outputs the pool, the client, the issuer and the command that prints a token', () => {
    const pool = { Ref: logicalIdOf(cognito, cognito.stack.identity!.userPool) };
    const client = { Ref: logicalIdOf(cognito, cognito.stack.identity!.client) };
    cognito.template.hasOutput('UserPoolId', { Value: pool });
    cognito.template.hasOutput('UserPoolClientId', { Value: client });
    cognito.template.hasOutput('JwtAudience', { Value: client });
    cognito.template.hasOutput('JwtIssuer', { Value: theAuthorizer(cognito).JwtConfiguration.Issuer });
    cognito.template.hasOutput('GetTokenCommand', {
      Value: {
        'Fn::Join': [
          '',
          [
            'aws cognito-idp initiate-auth --region ',
            { Ref: 'AWS::Region' },
            ' --auth-flow USER_PASSWORD_AUTH --client-id ',
            client,
            ' --auth-parameters USERNAME=<email>,PASSWORD=<password> --query AuthenticationResult.IdToken --output text',
          ],
        ],
      },
    });
  });
});

describe('an existing OIDC issuer (-c jwtIssuer, -c jwtAudience)', () => {
  it('is trusted instead of a user pool, with every audience given', () => {
    const synthesized = synthStampede({ jwtIssuer: 'https://login.example.com/', jwtAudience: 'stampede-api, stampede-web' });
    synthesized.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    expect(synthesized.stack.identity).toBeUndefined();
    expect(theAuthorizer(synthesized).JwtConfiguration).toEqual({ Issuer: 'https://login.example.com/', Audience: ['stampede-api', 'stampede-web'] });
    synthesized.template.hasOutput('JwtIssuer', { Value: 'https://login.example.com/' });
    synthesized.template.hasOutput('JwtAudience', { Value: 'stampede-api,stampede-web' });
    synthesized.template.hasOutput('GetTokenCommand', { Value: Match.stringLikeRegexp('^Ask your issuer') });
  });

  it('tells every function its groups claim with -c jwtGroupsClaim, and leaves the default otherwise', () => {
    const synthesized = synthStampede({ jwtIssuer: 'https://login.example.com/', jwtAudience: 'stampede-api', jwtGroupsClaim: 'groups' });
    const functions = Object.values(resourcesOf(synthesized, 'AWS::Lambda::Function'));
    expect(functions).toHaveLength(routes.length + 2); // and the sweeper and the queued decider, configured like them
    for (const fn of functions) expect(fn.Properties.Environment.Variables.STAMPEDE_GROUPS_CLAIM).toBe('groups');
    for (const fn of Object.values(resourcesOf(cognito, 'AWS::Lambda::Function')))
      expect(fn.Properties.Environment.Variables).not.toHaveProperty('STAMPEDE_GROUPS_CLAIM');
  });

  it.each([
    [{ jwtIssuer: 'https://login.example.com/' }, /jwtIssuer=' and '-c jwtAudience=' go together/],
    [{ jwtAudience: 'stampede-api' }, /jwtIssuer=' and '-c jwtAudience=' go together/],
    [{ jwtIssuer: 'http://login.example.com/', jwtAudience: 'a' }, /jwtIssuer=http:\/\/login.example.com\/' must be an https URL/],
    [{ jwtIssuer: 'login.example.com', jwtAudience: 'a' }, /must be an https URL/],
    [{ jwtIssuer: 'https://login.example.com/', jwtAudience: 'a,,b' }, /jwtAudience=a,,b' has an empty entry/],
    [{ jwtIssuer: 'https://login.example.com/', jwtAudience: Array.from({ length: 51 }, (_, i) => `a${i}`).join(',') }, /at most 50/],
    [{ jwtGroupsClaim: '' }, /jwtGroupsClaim=' needs a value/],
  ])('is refused when the context is incomplete or wrong: %j', (context, message) => {
    expect(() => synthStampede(context)).toThrow(ContextError);
    expect(() => synthStampede(context)).toThrow(message);
  });
});

describe('the load-test issuer (-c loadTestIssuerJwk)', () => {
  const issuerFunction = () => loadTest.stack.api.loadTestIssuer!.function;

  it('adds its discovery and key-set routes, public and served by the issuer function', () => {
    const authorization = routeAuthorization(loadTest);
    expect(
      [...authorization]
        .filter(([, { type }]) => type === 'NONE')
        .map(([key]) => key)
        .sort(),
    ).toEqual([publicRouteKey, `GET ${discoveryPath}`, `GET ${jwksPath}`].sort());
    const integrations = resourcesOf(loadTest, 'AWS::ApiGatewayV2::Integration');
    const issuerArn = { 'Fn::GetAtt': [logicalIdOf(loadTest, issuerFunction()), 'Arn'] };
    for (const route of Object.values(resourcesOf(loadTest, 'AWS::ApiGatewayV2::Route'))) {
      if (!String(route.Properties.RouteKey).includes('/load-test-issuer/')) continue;
      const integrationId = (route.Properties.Target['Fn::Join'][1] as unknown[])[1] as { Ref: string };
      expect(integrations[integrationId.Ref]!.Properties.IntegrationUri).toEqual(issuerArn);
    }
  });

  it('is the only issuer the authorizer trusts: built from the API id, audience stampede-load-test, no user pool', () => {
    const api = logicalIdOf(loadTest, loadTest.stack.api.httpApi);
    const issuer = {
      'Fn::Join': ['', ['https://', { Ref: api }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/load-test-issuer']],
    };
    expect(theAuthorizer(loadTest).JwtConfiguration).toEqual({ Issuer: issuer, Audience: ['stampede-load-test'] });
    loadTest.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    loadTest.template.hasOutput('JwtIssuer', { Value: issuer });
    loadTest.template.hasOutput('JwtAudience', { Value: 'stampede-load-test' });
    expect(JSON.stringify(loadTest.template.toJSON().Outputs.GetTokenCommand.Value)).toContain('npm run token -- --sub alice --load-test-key');
    // The function publishes the same issuer the authorizer checks.
    const fn = resourcesOf(loadTest, 'AWS::Lambda::Function')[logicalIdOf(loadTest, issuerFunction())]!;
    expect(fn.Properties.Environment.Variables.STAMPEDE_LOAD_TEST_ISSUER).toEqual(issuer);
  });

  it('gives the function the public key only, read once at cold start', () => {
    const fn = resourcesOf(loadTest, 'AWS::Lambda::Function')[logicalIdOf(loadTest, issuerFunction())]!;
    const published = JSON.parse(fn.Properties.Environment.Variables.STAMPEDE_LOAD_TEST_JWK);
    expect(published).toEqual({ kty: 'RSA', use: 'sig', alg: 'RS256', kid: 'load-test-1', n: keys.public.n, e: keys.public.e });
    expect(Object.keys(fn.Properties.Environment.Variables).sort()).toEqual(['NODE_OPTIONS', 'STAMPEDE_LOAD_TEST_ISSUER', 'STAMPEDE_LOAD_TEST_JWK']);
  });

  it('runs like the route functions (Node.js 22, arm64), with its own log group and a role for that log group only', () => {
    const functions = resourcesOf(loadTest, 'AWS::Lambda::Function');
    const issuer = functions[logicalIdOf(loadTest, issuerFunction())]!.Properties;
    const route = functions[logicalIdOf(loadTest, loadTest.stack.functions.get('GetEvent')!.function)]!.Properties;
    for (const property of ['Runtime', 'Architectures', 'Handler'] as const) expect(issuer[property], property).toEqual(route[property]);
    expect(issuer.LoggingConfig.LogGroup).toEqual({ Ref: logicalIdOf(loadTest, loadTest.stack.api.loadTestIssuer!.logGroup) });
    const role = logicalIdOf(loadTest, issuerFunction().role!);
    const statements = Object.values(resourcesOf(loadTest, 'AWS::IAM::Policy'))
      .filter((policy) => policy.Properties.Roles.some((ref: { Ref: string }) => ref.Ref === role))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[]);
    expect(statements.map((statement) => [statement.Action].flat())).toEqual([['logs:CreateLogStream', 'logs:PutLogEvents']]);
  });

  it('is watched like the route functions: errors and throttles alarm', () => {
    const names = Object.values(resourcesOf(loadTest, 'AWS::CloudWatch::Alarm')).map((alarm) => alarm.Properties.AlarmName);
    expect(names).toEqual(expect.arrayContaining(['stampede-test-LoadTestIssuerErrors', 'stampede-test-LoadTestIssuerThrottles']));
  });

  it.each([[{ stage: 'prod' }], [{ stage: 'production' }], [{ stage: 'staging', protected: 'true' }]])(
    'is refused on a protected stage, with the reason: %j',
    (context) => {
      const synth = () => synthStampede({ ...context, loadTestIssuerJwk: keyFile });
      expect(synth).toThrow(ContextError);
      expect(synth).toThrow(/'-c loadTestIssuerJwk' is refused on the protected stage '[a-z]+': whoever holds the load-test private key/);
    },
  );

  it.each([
    ['its URL', { jwtIssuer: 'https://abc123.execute-api.eu-west-1.amazonaws.com/load-test-issuer', jwtAudience: 'stampede-api' }],
    ['its URL with a trailing slash', { jwtIssuer: 'https://abc123.execute-api.eu-west-1.amazonaws.com/load-test-issuer/', jwtAudience: 'stampede-api' }],
    ['its audience', { jwtIssuer: 'https://login.example.com/', jwtAudience: 'stampede-api,stampede-load-test' }],
  ])('cannot be trusted by a protected stage through -c jwtIssuer either (%s)', (_, context) => {
    const synth = () => synthStampede({ ...context, stage: 'prod' });
    expect(synth).toThrow(ContextError);
    expect(synth).toThrow(/'-c jwtIssuer' is refused on the protected stage 'prod': names a sandbox stage's load-test issuer/);
    expect(() => synthStampede(context)).not.toThrow(); // a sandbox stage may
  });

  it('is refused on a protected stage even when the stack is built without the CLI', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(
      () =>
        new StampedeStack(app, 'Direct', {
          stage: { name: 'prod', protected: true },
          tokenIssuer: { kind: 'loadTest', publicJwk: parseLoadTestJwk(JSON.stringify(keys.public)) },
        }),
    ).toThrow(/refused on the protected stage 'prod'/);
  });

  it.each([
    [{ loadTestIssuerJwk: '/no/such/file.json' }, /loadTestIssuerJwk=\/no\/such\/file.json': cannot read the file/],
    [{ jwtIssuer: 'https://login.example.com/', jwtAudience: 'a' }, /exclude each other/],
    [{ jwtGroupsClaim: 'roles' }, /the load-test issuer puts groups in 'cognito:groups'/],
  ])('is refused with a missing key file, another issuer or another groups claim: %j', (context, message) => {
    const withKey = 'loadTestIssuerJwk' in context ? context : { ...context, loadTestIssuerJwk: keyFile };
    expect(() => synthStampede(withKey)).toThrow(message);
  });

  it('refuses at synth a key that is not a public RSA signing key', () => {
    const badKeyFile = join(keyDir, 'private.jwk.json');
    writeFileSync(badKeyFile, JSON.stringify(keys.private));
    expect(() => synthStampede({ loadTestIssuerJwk: badKeyFile })).toThrow(/holds private key members \(d, p, q, dp, dq, qi\): give the public key only/);
  });
});

describe('the load-test issuer function', () => {
  const issuer = 'https://abc123.execute-api.eu-west-1.amazonaws.com/load-test-issuer';
  type Handler = (event: { routeKey: string }) => Promise<{ statusCode?: number; headers?: Record<string, unknown>; body?: string }>;
  let handler: Handler;
  // As on Lambda: the configuration is in the environment when the module loads (the cold start).
  beforeAll(async () => {
    process.env[loadTestIssuerVariables.issuer] = issuer;
    process.env[loadTestIssuerVariables.publicJwk] = JSON.stringify(parseLoadTestJwk(JSON.stringify(keys.public)));
    handler = ((await import(resolve(__dirname, '..', '..', 'functions/handlers/load-test-issuer.ts'))) as { handler: Handler }).handler;
  });
  afterAll(() => {
    delete process.env[loadTestIssuerVariables.issuer];
    delete process.env[loadTestIssuerVariables.publicJwk];
  });
  const get = (path: string) => handler({ routeKey: `GET ${path}` });

  it('serves the discovery document that points API Gateway at the key set', async () => {
    const response = await get(discoveryPath);
    expect(response).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(response.body!)).toEqual({ issuer, jwks_uri: `${issuer}/.well-known/jwks.json` });
  });

  it('serves the public key as a key set', async () => {
    const response = await get(jwksPath);
    expect(JSON.parse(response.body!)).toEqual({ keys: [{ kty: 'RSA', use: 'sig', alg: 'RS256', kid: 'load-test-1', n: keys.public.n, e: keys.public.e }] });
  });

  it.each([
    ['not JSON', 'nope', /not valid JSON/],
    ['a private key', () => JSON.stringify(keys.private), /private key members/],
    ['another key type', () => JSON.stringify({ ...keys.public, kty: 'EC' }), /kty must be 'RSA'/],
    ['another algorithm', () => JSON.stringify({ ...keys.public, alg: 'HS256' }), /alg must be 'RS256'/],
    ['no kid', () => JSON.stringify({ ...keys.public, kid: undefined }), /kid must be/],
    ['an encryption key', () => JSON.stringify({ ...keys.public, use: 'enc' }), /use must be 'sig'/],
    ['a 1,024-bit modulus', () => JSON.stringify((rsaJwk(1024) as any).public), /at least 2048 bits, got 1024/],
  ])('refuses %s', (_, text, message) => {
    expect(() => parseLoadTestJwk(typeof text === 'function' ? text() : text)).toThrow(message);
  });
});

describe('CORS', () => {
  it('is not configured unless origins are given', () => {
    expect(Object.values(resourcesOf(cognito, 'AWS::ApiGatewayV2::Api'))[0]!.Properties.CorsConfiguration).toBeUndefined();
  });

  it('allows exactly the origins given, the headers a client sends and the methods of the route table', () => {
    synthStampede({ corsOrigins: 'https://tickets.example.com,https://admin.example.com' }).template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: ['https://tickets.example.com', 'https://admin.example.com'],
        AllowHeaders: ['authorization', 'content-type', 'idempotency-key'],
        AllowMethods: [...new Set(routes.map((route) => route.method))],
        ExposeHeaders: ['retry-after', 'location'],
        AllowCredentials: false,
      },
    });
  });

  it.each(['*', 'https://*.example.com', 'https://tickets.example.com/', 'https://tickets.example.com/app', 'ftp://example.com', 'tickets.example.com'])(
    'refuses an origin that is not explicit: %s',
    (origin) => {
      expect(() => synthStampede({ corsOrigins: origin })).toThrow(/give origins such as https:\/\/tickets.example.com/);
    },
  );
});

describe('throttling', () => {
  const stageOf = (synthesized: Synthesized) => Object.values(resourcesOf(synthesized, 'AWS::ApiGatewayV2::Stage'))[0]!;

  it('gives the public event page its own limit, a quarter of the stage default', () => {
    const stage = stageOf(cognito);
    expect(stage.Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: defaultThrottle.rateLimit, ThrottlingBurstLimit: defaultThrottle.burstLimit });
    expect(stage.Properties.RouteSettings).toEqual({
      [publicRouteKey]: { ThrottlingRateLimit: defaultThrottle.rateLimit / 4, ThrottlingBurstLimit: defaultThrottle.burstLimit / 4 },
    });
    // A route setting for a route that does not exist yet fails the deploy.
    const publicRoute = logicalIdOf(cognito, cognito.stack.api.publicRoutes.get(publicRouteKey)!);
    expect(stage.DependsOn).toContain(publicRoute);
  });

  it('follows the stage throttling given in the context, and covers every public route', () => {
    const synthesized = synthStampede({ throttleRate: '400', throttleBurst: '100', loadTestIssuerJwk: keyFile });
    const quarter = { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 25 };
    expect(stageOf(synthesized).Properties.RouteSettings).toEqual({
      [publicRouteKey]: quarter,
      [`GET ${discoveryPath}`]: quarter,
      [`GET ${jwksPath}`]: quarter,
    });
  });
});

describe('cdk-nag', () => {
  const acknowledgedRules = (synthesized: Synthesized) => {
    const found: { id: string; path: string }[] = [];
    for (const construct of synthesized.stack.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const id of Object.keys(entry.data as Record<string, string>)) found.push({ id: id.replace(/^annotation::/i, ''), path: construct.node.path });
      }
    }
    return found;
  };

  it('acknowledges AwsSolutions-APIG4 (no authorization) on the public routes only, never on the whole API', () => {
    const onPublicRoutes = (synthesized: Synthesized) => [...synthesized.stack.api.publicRoutes.values()].map((route) => route.node.path).sort();
    for (const synthesized of [cognito, loadTest]) {
      const apig4 = acknowledgedRules(synthesized).filter(({ id }) => id === 'AwsSolutions-APIG4');
      expect(apig4.map(({ path }) => path).sort()).toEqual(onPublicRoutes(synthesized));
    }
    expect(onPublicRoutes(cognito)).toEqual([cognito.stack.api.publicRoutes.get(publicRouteKey)!.node.path]);
  });

  it.each([
    ['the load-test stage', () => loadTest],
    ['a stage trusting another issuer', () => synthStampede({ jwtIssuer: 'https://login.example.com/', jwtAudience: 'a', corsOrigins: 'https://a.example' })],
  ])('finds nothing unacknowledged on %s', (_, synthesized) => {
    const { stack } = synthesized();
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((violation) => `${violation.ruleName}: ${violation.violatingResources[0]?.constructPath}`)).toEqual([]);
  });
});
