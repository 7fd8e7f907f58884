import { createLocalJWKSet, decodeProtectedHeader, type JWK, type JWTPayload, jwtVerify } from 'jose';

/**
 * The local stand-in for API Gateway's HTTP API JWT authorizer: the same checks on every
 * protected route before any function runs, and the same answers.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html
 *
 * - `Authorization: Bearer <token>`, signed by a key of the issuer's JWKS named by `kid`;
 *   RSA algorithms only (so `alg: none` and HMAC tokens are refused);
 * - `iss` equal to the issuer; `aud` one of the audiences (or `client_id` when `aud` is absent);
 * - `exp` in the future; `nbf` and `iat`, when present, not in the future.
 *
 * A refused request gets 401 `{"message":"Unauthorized"}` and a `www-authenticate` header, as
 * API Gateway answers (its body cannot be changed for HTTP APIs). An accepted one carries the
 * claims to the function in `requestContext.authorizer.jwt.claims`, each as a string and an
 * array claim as one bracketed, space-separated string (`"[organizers vip]"`), as API Gateway
 * hands them over.
 */
export interface AuthorizerSettings {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly jwks: { readonly keys: readonly JWK[] };
}

export type Authorization = { readonly authorized: true; readonly claims: Record<string, string> } | { readonly authorized: false; readonly reason: string };

const rsaAlgorithms = ['RS256', 'RS384', 'RS512'];
/** Verified tokens are remembered until they expire: a buyer's token serves several requests. */
const maxRemembered = 100_000;

export class JwtAuthorizer {
  private readonly keys: ReturnType<typeof createLocalJWKSet>;
  private readonly remembered = new Map<string, { claims: Record<string, string>; payload: JWTPayload }>();

  constructor(
    private readonly settings: AuthorizerSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = createLocalJWKSet({ keys: [...settings.jwks.keys] });
  }

  async authorize(authorizationHeader: string | undefined): Promise<Authorization> {
    // API Gateway takes the token alone or after `Bearer ` (http-api-jwt-authorizer.html).
    const token = /^(?:Bearer +)?(\S+)$/i.exec(authorizationHeader?.trim() ?? '')?.[1];
    if (!token) return refuse('no token in the Authorization header');
    const known = this.remembered.get(token);
    if (known) {
      const stale = timeProblem(known.payload, this.now());
      if (!stale) return { authorized: true, claims: known.claims };
      this.remembered.delete(token);
      return refuse(stale);
    }
    try {
      const header = decodeProtectedHeader(token);
      if (!header.kid) return refuse('the token has no kid');
      if (!rsaAlgorithms.includes(header.alg ?? '')) return refuse(`the token's algorithm ${String(header.alg)} is not supported`);
      const { payload } = await jwtVerify(token, this.keys, {
        issuer: this.settings.issuer,
        algorithms: rsaAlgorithms,
        requiredClaims: ['exp'],
        currentDate: new Date(this.now()),
      });
      const audienceProblem = this.audienceProblem(payload);
      const problem = audienceProblem ?? timeProblem(payload, this.now());
      if (problem) return refuse(problem);
      const claims = asGatewayClaims(payload);
      if (this.remembered.size >= maxRemembered) this.remembered.delete(this.remembered.keys().next().value!);
      this.remembered.set(token, { claims, payload });
      return { authorized: true, claims };
    } catch (error) {
      return refuse(describe(error));
    }
  }

  /** `aud` must name one of the audiences; without `aud`, `client_id` must (as API Gateway checks). */
  private audienceProblem(payload: JWTPayload): string | undefined {
    const audiences = payload.aud === undefined ? [payload.client_id] : [payload.aud].flat();
    return audiences.some((audience) => typeof audience === 'string' && this.settings.audiences.includes(audience))
      ? undefined
      : 'the token does not have a valid audience';
  }
}

/** The 401 API Gateway answers for a missing or invalid token. */
export function unauthorizedResponse(reason: string) {
  return {
    statusCode: 401,
    headers: { 'www-authenticate': `Bearer scope="" error="invalid_token" error_description="${reason.replace(/"/g, "'")}"` },
    body: JSON.stringify({ message: 'Unauthorized' }),
  };
}

function refuse(reason: string): Authorization {
  return { authorized: false, reason };
}

function timeProblem(payload: JWTPayload, nowMs: number): string | undefined {
  const now = Math.floor(nowMs / 1000);
  if (typeof payload.exp !== 'number' || payload.exp <= now) return 'the token has expired';
  if (typeof payload.nbf === 'number' && payload.nbf > now) return 'the token is not valid yet';
  if (typeof payload.iat === 'number' && payload.iat > now) return 'the token was issued in the future';
  return undefined;
}

/** Claims as API Gateway passes them to a function: strings, arrays as `"[a b]"`. */
export function asGatewayClaims(payload: JWTPayload): Record<string, string> {
  return Object.fromEntries(
    Object.entries(payload).map(([name, value]) => [
      name,
      Array.isArray(value) ? `[${value.map(String).join(' ')}]` : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value),
    ]),
  );
}

function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ERR_JWT_EXPIRED') return 'the token has expired';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return `the token's ${(error as { claim?: string }).claim ?? 'claims'} is not valid`;
  if (code === 'ERR_JWKS_NO_MATCHING_KEY') return 'no key of the issuer matches the token';
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return 'the signature is not valid';
  return 'the token is not a valid JWT';
}
