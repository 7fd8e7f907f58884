import type { JWK } from 'jose';
import { loadTestAudience, loadTestIssuerPath } from '../functions/handlers/load-test-issuer-config';
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

export function deployedLoadTestIssuer(apiUrl: string, privateJwk: JWK): RushIssuer {
  return { issuer: `${apiUrl.replace(/\/+$/, '')}${loadTestIssuerPath}`, audience: loadTestAudience, privateJwk };
}

export function localIssuer(apiUrl: string, privateJwk: JWK): RushIssuer {
  return { issuer: apiUrl, audience: localAudience, privateJwk };
}
