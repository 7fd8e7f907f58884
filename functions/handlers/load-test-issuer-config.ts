import { ConfigurationError } from '../config';

/**
 * The load-test issuer's configuration: where it says it lives and the public key it
 * publishes. Read once at cold start by functions/handlers/load-test-issuer.ts and, with the
 * same parser, at `cdk synth` (lib/constructs/load-test-issuer.ts), so a bad key fails the
 * synth, not the first token check of a rush.
 */
export interface LoadTestIssuerConfig {
  /** `https://<apiId>.execute-api.<region>.amazonaws.com/load-test-issuer`: the `iss` of its tokens. */
  readonly issuer: string;
  readonly publicJwk: LoadTestPublicJwk;
}

/** The public half of an RSA signing key, as a JWK (RFC 7517), and all of it that is published. */
export interface LoadTestPublicJwk {
  readonly kty: 'RSA';
  readonly use: 'sig';
  readonly alg: 'RS256';
  readonly kid: string;
  readonly n: string;
  readonly e: string;
}

/** Where the issuer's documents are served, under the API's own URL. */
export const loadTestIssuerPath = '/load-test-issuer';
/** The `aud` of every load-test token, and the only audience a load-test stage accepts. */
export const loadTestAudience = 'stampede-load-test';
export const discoveryPath = `${loadTestIssuerPath}/.well-known/openid-configuration`;
const jwksSuffix = '/.well-known/jwks.json';
export const jwksPath = `${loadTestIssuerPath}${jwksSuffix}`;

/** The key set's URL for an issuer URL (`issuer` ends in loadTestIssuerPath). */
export function jwksUri(issuer: string): string {
  return `${issuer}${jwksSuffix}`;
}

export const loadTestIssuerVariables = { issuer: 'STAMPEDE_LOAD_TEST_ISSUER', publicJwk: 'STAMPEDE_LOAD_TEST_JWK' } as const;

/** Members of an RSA JWK that belong to the private key: they must never be published. */
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];

const base64url = /^[A-Za-z0-9_-]+$/;

/** API Gateway's JWT authorizer checks RSA signatures only; below 2,048 bits a key is too weak to trust. */
const minModulusBits = 2048;

type Env = Readonly<Record<string, string | undefined>>;

export function loadTestIssuerConfig(env: Env = process.env): LoadTestIssuerConfig {
  const issuer = env[loadTestIssuerVariables.issuer];
  if (!issuer || !/^https:\/\/[^\s/]+\/\S*$/.test(issuer) || !issuer.endsWith(loadTestIssuerPath)) {
    throw new ConfigurationError(
      `${loadTestIssuerVariables.issuer} must be the https URL of the issuer ending in ${loadTestIssuerPath}, got '${issuer ?? ''}'.`,
    );
  }
  const text = env[loadTestIssuerVariables.publicJwk];
  if (!text) throw new ConfigurationError(`${loadTestIssuerVariables.publicJwk} must hold the public JWK.`);
  return { issuer, publicJwk: parseLoadTestJwk(text) };
}

/**
 * Checks a public RSA JWK (kty RSA, alg RS256, a kid, n and e) and returns exactly its public
 * members. A private key, another key type or a short modulus is refused with the reason.
 */
export function parseLoadTestJwk(text: string): LoadTestPublicJwk {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new ConfigurationError('The load-test JWK is not valid JSON.');
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new ConfigurationError('The load-test JWK must be a JSON object.');
  const key = jwk as Record<string, unknown>;
  const problems: string[] = [];
  const leaked = privateMembers.filter((member) => member in key);
  if (leaked.length > 0) problems.push(`it holds private key members (${leaked.join(', ')}): give the public key only`);
  if (key.kty !== 'RSA') problems.push(`kty must be 'RSA', got ${JSON.stringify(key.kty)}`);
  if (key.alg !== 'RS256') problems.push(`alg must be 'RS256', got ${JSON.stringify(key.alg)}`);
  if (key.use !== undefined && key.use !== 'sig') problems.push(`use must be 'sig' when given, got ${JSON.stringify(key.use)}`);
  if (typeof key.kid !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(key.kid)) problems.push('kid must be 1-128 printable ASCII characters');
  if (typeof key.e !== 'string' || !base64url.test(key.e)) problems.push('e must be base64url');
  if (typeof key.n !== 'string' || !base64url.test(key.n)) problems.push('n must be base64url');
  else if (modulusBits(key.n) < minModulusBits) problems.push(`n must be a modulus of at least ${minModulusBits} bits, got ${modulusBits(key.n)}`);
  if (problems.length > 0) throw new ConfigurationError(`Invalid load-test JWK: ${problems.join('; ')}.`);
  return { kty: 'RSA', use: 'sig', alg: 'RS256', kid: key.kid as string, n: key.n as string, e: key.e as string };
}

function modulusBits(n: string): number {
  const bytes = Buffer.from(n, 'base64url');
  const leading = bytes.findIndex((byte) => byte !== 0);
  if (leading === -1) return 0;
  return (bytes.length - leading) * 8 - Math.clz32(bytes[leading]!) + 24;
}
