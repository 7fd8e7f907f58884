import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';

/**
 * An OIDC issuer in a box: an RS256 key pair (made at start, or given, so a load test can mint
 * its own tokens), the JWKS and discovery document to publish, and tokens for any subject.
 * `npm start` serves one as the local stand-in for Cognito; `npm run rush -- --target` mints
 * with the private key of a sandbox stage's load-test issuer (docs/deploy.md). Never deployed.
 */
export interface TokenRequest {
  readonly sub: string;
  readonly groups?: readonly string[];
  /** @default 1 hour */
  readonly expiresInSeconds?: number;
}

export interface IssuerSettings {
  /** The `iss` of every token: the local server's URL, so discovery works as it does on AWS. */
  readonly issuer: string;
  readonly audience: string;
  /** The claim the groups go in (StampedeConfig.groupsClaim). */
  readonly groupsClaim: string;
}

export const localAudience = 'stampede-local';
type SigningKey = Awaited<ReturnType<typeof importJWK>>;
const algorithm = 'RS256';
/**
 * Tokens are issued this far in the past: API Gateway's authorizer refuses an `iat` or `nbf` in its
 * future with no leeway, and load-test tokens are minted on a machine whose clock may run ahead.
 */
export const issuedInThePastSeconds = 60;

export class TokenIssuer {
  private constructor(
    private readonly settings: IssuerSettings,
    private readonly privateKey: SigningKey,
    private readonly publicJwk: JWK,
  ) {}

  /** A fresh key pair, or the one in `privateJwk` (a JSON Web Key with its private parts). */
  static async create(settings: IssuerSettings, privateJwk?: JWK): Promise<TokenIssuer> {
    const jwk = privateJwk ?? (await newPrivateJwk());
    const privateKey = await importJWK({ ...jwk, alg: algorithm }, algorithm);
    return new TokenIssuer(settings, privateKey, publicPart(jwk));
  }

  get issuer(): string {
    return this.settings.issuer;
  }

  get audience(): string {
    return this.settings.audience;
  }

  /** The key set the authorizer trusts, as `/.well-known/jwks.json` serves it. */
  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  /** `/.well-known/openid-configuration`: where an authorizer finds the keys. */
  discovery() {
    return { issuer: this.settings.issuer, jwks_uri: `${this.settings.issuer}/.well-known/jwks.json`, id_token_signing_alg_values_supported: [algorithm] };
  }

  mint({ sub, groups = [], expiresInSeconds = 3_600 }: TokenRequest): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const issuedAt = now - issuedInThePastSeconds;
    return new SignJWT({ ...(groups.length > 0 && { [this.settings.groupsClaim]: [...groups] }), token_use: 'id' })
      .setProtectedHeader({ alg: algorithm, kid: this.publicJwk.kid!, typ: 'JWT' })
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setSubject(sub)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(now + expiresInSeconds)
      .setJti(randomUUID())
      .sign(this.privateKey);
  }
}

/** A new RS256 key pair as a private JWK with a key id. */
export async function newPrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(algorithm, { modulusLength: 2048, extractable: true });
  return { ...(await exportJWK(privateKey)), alg: algorithm, kid: randomUUID(), use: 'sig' };
}

/** The public half of an RSA JWK: what a JWKS may show. */
export function publicPart({ kty, n, e, kid }: JWK): JWK {
  return { kty, n, e, kid, alg: algorithm, use: 'sig' };
}
