import * as v from 'valibot';
import { maxSubjectLength } from '../functions/http/identity';
import { json } from '../functions/http/responses';
import { parseBody } from '../functions/http/validation';
import type { CapacityMeter } from './capacity-meter';
import type { LocalRoute } from './http-server';
import type { TokenIssuer } from './jwt-issuer';

/**
 * The endpoints only the local server has (never deployed): the OpenAPI document, the local
 * issuer's discovery document, keys and tokens, and the load test's counters.
 */
export interface DevelopmentRouteSources {
  readonly openApi: unknown;
  readonly issuer: TokenIssuer;
  readonly telemetry: { snapshot?: () => unknown; reset?: () => void };
  /** What the local sweeper did, summed (InMemorySweepStats). */
  readonly sweeps: { snapshot?: () => unknown; reset?: () => void };
  /** Present when the stack meters DynamoDB (the load test). */
  readonly meter?: CapacityMeter;
}

/** `POST /_local/tokens`: who the token is for, and the groups it carries. */
const tokenRequest = v.strictObject({
  sub: v.pipe(
    v.string('must be a string'),
    v.minLength(1, 'must not be empty'),
    v.maxLength(maxSubjectLength, `must be at most ${maxSubjectLength} characters`),
  ),
  groups: v.optional(v.array(v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty')), 'must be an array of group names')),
});

export function developmentRoutes({ openApi, issuer, telemetry, sweeps, meter }: DevelopmentRouteSources): Record<string, LocalRoute> {
  const routes: Record<string, LocalRoute> = {
    'GET /openapi.json': () => json(200, openApi),
    'GET /.well-known/openid-configuration': () => json(200, issuer.discovery()),
    'GET /.well-known/jwks.json': () => json(200, issuer.jwks()),
    'POST /_local/tokens': async (body) => json(201, { token: await issuer.mint(parseBody(tokenRequest, body)) }),
    'GET /_local/telemetry': () => json(200, telemetry.snapshot?.() ?? {}),
    'GET /_local/sweeper': () => json(200, sweeps.snapshot?.() ?? {}),
  };
  if (meter) {
    routes['GET /_local/capacity'] = (_body, query) => json(200, meter.snapshot(query.get('readKeysOf') ?? undefined));
    routes['POST /_local/reset'] = () => {
      meter.reset();
      telemetry.reset?.();
      sweeps.reset?.();
      return json(200, { reset: true });
    };
    routes['POST /_local/meter/pause'] = () => {
      meter.pause();
      return json(200, { metering: false });
    };
    routes['POST /_local/meter/resume'] = () => {
      const callsWhilePaused = meter.resume();
      return json(200, { metering: true, callsWhilePaused });
    };
  }
  return routes;
}
