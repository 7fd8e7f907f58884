import type { JWK } from 'jose';
import { localAudience } from '../local/jwt-issuer';

/**
 * Who mints a rush's tokens. Locally: the rush gives the local stack its issuer's key and mints
 * with it (no request per token). Against a deployed sandbox stage: the stage trusts its
 * load-test issuer, whose public key was given at deploy (`-c loadTestIssuerJwk=`) and which
 * the stage publishes at `<ApiUrl>/load-test-issuer/.well-known/jwks.json` (docs/deploy.md).
 */
export interface RushIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly privateJwk: JWK;
}

/** Path of a sandbox stage's load-test issuer under its API URL, and the audience its tokens carry. */
export const loadTestIssuerPath = '/load-test-issuer';
export const loadTestAudience = 'stampede-load-test';

export function deployedLoadTestIssuer(apiUrl: string, privateJwk: JWK): RushIssuer {
  return { issuer: `${apiUrl.replace(/\/+$/, '')}${loadTestIssuerPath}`, audience: loadTestAudience, privateJwk };
}

export function localIssuer(apiUrl: string, privateJwk: JWK): RushIssuer {
  return { issuer: apiUrl, audience: localAudience, privateJwk };
}
