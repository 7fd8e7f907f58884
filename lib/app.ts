import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type LoadTestPublicJwk, parseLoadTestJwk } from '../functions/handlers/load-test-issuer-config';
import { ContextError, requireSandboxStage, type StageSettings, stageFromContext } from './stage';
import { StampedeStack, type TokenIssuer } from './stampede-stack';

type Context = (key: string) => unknown;

/**
 * Builds the Stampede app from its CDK context: `stage` (required), `protected`,
 * `alarmEmail`, `throttleRate`, `throttleBurst`, `corsOrigins`, and who issues tokens
 * (`jwtIssuer` + `jwtAudience`, `jwtGroupsClaim`, or `loadTestIssuerJwk`; by default a
 * Cognito user pool of the stack's own). bin/stampede.ts and the infra tests both use this,
 * so the tests check the wiring that `cdk synth` runs.
 */
export function buildStampede(app: App): StampedeStack {
  const context: Context = (key) => app.node.tryGetContext(key) as unknown;
  const stage = stageFromContext(context);
  const groupsClaim = optionalString(context('jwtGroupsClaim'), 'jwtGroupsClaim');
  if (groupsClaim !== undefined && context('loadTestIssuerJwk') !== undefined) {
    // The rush mints its organizer's token with the groups where Cognito puts them (load/tokens.ts).
    throw new ContextError("'-c jwtGroupsClaim' and '-c loadTestIssuerJwk' exclude each other: the load-test issuer puts groups in 'cognito:groups'.");
  }
  const stack = new StampedeStack(app, `Stampede-${stage.name}`, {
    stage,
    description: `Stampede flash-sale ticketing, stage ${stage.name}${stage.protected ? ' (protected)' : ''}`,
    alarmEmail: optionalString(context('alarmEmail'), 'alarmEmail'),
    throttle: {
      rateLimit: optionalNumber(context('throttleRate'), 'throttleRate'),
      burstLimit: optionalNumber(context('throttleBurst'), 'throttleBurst'),
    },
    tokenIssuer: tokenIssuerFromContext(context, stage),
    corsOrigins: corsOriginsFromContext(context('corsOrigins')),
    functionEnvironment: groupsClaim ? { STAMPEDE_GROUPS_CLAIM: groupsClaim } : undefined,
  });
  Tags.of(stack).add('project', 'stampede');
  Tags.of(stack).add('stampede:stage', stage.name);
  // Every finding is an error at synth unless acknowledged with a reason (see StampedeStack).
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stack;
}

/** API Gateway accepts at most 50 audiences per JWT authorizer. */
const maxAudiences = 50;

function tokenIssuerFromContext(context: Context, stage: StageSettings): TokenIssuer {
  const issuer = optionalString(context('jwtIssuer'), 'jwtIssuer');
  const audience = optionalList(context('jwtAudience'), 'jwtAudience');
  const jwkPath = optionalString(context('loadTestIssuerJwk'), 'loadTestIssuerJwk');
  if (jwkPath !== undefined) {
    requireSandboxStage(stage, 'loadTestIssuerJwk');
    if (issuer !== undefined || audience !== undefined) {
      throw new ContextError("'-c loadTestIssuerJwk' and '-c jwtIssuer' exclude each other: a load-test stage trusts its own issuer only.");
    }
    return { kind: 'loadTest', publicJwk: readPublicJwk(jwkPath) };
  }
  if (issuer === undefined && audience === undefined) return { kind: 'cognito' };
  if (issuer === undefined || audience === undefined) {
    throw new ContextError(
      "'-c jwtIssuer=' and '-c jwtAudience=' go together: the issuer of the tokens to accept, and the audiences (aud) they must carry, " +
        "e.g. '-c jwtIssuer=https://login.example.com/ -c jwtAudience=stampede-api'.",
    );
  }
  if (!isHttpsUrl(issuer)) throw new ContextError(`'-c jwtIssuer=${issuer}' must be an https URL: API Gateway fetches the issuer's keys from it.`);
  if (audience.length > maxAudiences)
    throw new ContextError(`'-c jwtAudience=' names ${audience.length} audiences; API Gateway accepts at most ${maxAudiences}.`);
  return { kind: 'oidc', issuer, audience };
}

function readPublicJwk(path: string): LoadTestPublicJwk {
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8');
  } catch (error) {
    throw new ContextError(`'-c loadTestIssuerJwk=${path}': cannot read the file (${(error as Error).message}). Give the path of the public JWK JSON file.`);
  }
  try {
    return parseLoadTestJwk(text);
  } catch (error) {
    throw new ContextError(`'-c loadTestIssuerJwk=${path}': ${(error as Error).message}`);
  }
}

/** Explicit origins only (`https://tickets.example.com`): no wildcard, no path. */
function corsOriginsFromContext(value: unknown): string[] | undefined {
  const origins = optionalList(value, 'corsOrigins');
  for (const origin of origins ?? []) {
    if (!isOrigin(origin)) {
      throw new ContextError(`'-c corsOrigins=' has '${origin}': give origins such as https://tickets.example.com (scheme and host, no path, no wildcard).`);
    }
  }
  return origins;
}

function isHttpsUrl(value: string): boolean {
  return URL.canParse(value) && new URL(value).protocol === 'https:';
}

function isOrigin(value: string): boolean {
  if (!URL.canParse(value) || value.includes('*')) return false;
  const url = new URL(value);
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new ContextError(`'-c ${name}=' needs a value.`);
  return value;
}

/** A comma-separated list, e.g. `-c jwtAudience=aud1,aud2`. */
function optionalList(value: unknown, name: string): string[] | undefined {
  const text = optionalString(value, name);
  if (text === undefined) return undefined;
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw new ContextError(`'-c ${name}=${text}' has an empty entry: separate values with single commas.`);
  return items;
}

function optionalNumber(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new ContextError(`'-c ${name}=${String(value)}' must be a positive whole number.`);
  return parsed;
}
