import { importJWK, type JWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { organizer } from '../../functions/http/identity';
import { type HttpApiEvent, HttpRequest } from '../../functions/http/request';
import { JwtAuthorizer } from '../../local/jwt-authorizer';
import { issuedInThePastSeconds, localAudience, newPrivateJwk, publicPart, TokenIssuer } from '../../local/jwt-issuer';

const issuer = 'http://127.0.0.1:3000';
const settings = { issuer, audiences: [localAudience] };
let privateJwk: JWK;
let authorizer: JwtAuthorizer;

/** A token signed with the issuer's key, with exactly the claims given (iss and exp unless overridden). */
async function token(claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'alice', iss: issuer, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: privateJwk.kid! })
    .sign(await importJWK(privateJwk, 'RS256'));
}

beforeAll(async () => {
  privateJwk = await newPrivateJwk();
  authorizer = new JwtAuthorizer({ ...settings, jwks: { keys: [publicPart(privateJwk)] } });
});

describe('the local JWT authorizer checks the audience as API Gateway does', () => {
  it.each([
    ['aud is the audience', { aud: localAudience }, true],
    ['aud is a list that holds the audience', { aud: ['other', localAudience] }, true],
    ['no aud, client_id is the audience (a Cognito access token)', { client_id: localAudience, token_use: 'access' }, true],
    ['no aud, client_id is another client', { client_id: 'other' }, false],
    ['aud is another audience, even with client_id the audience (aud comes first)', { aud: 'other', client_id: localAudience }, false],
    ['neither aud nor client_id', {}, false],
  ])('%s → authorized: %s', async (_, claims, authorized) => {
    expect((await authorizer.authorize(`Bearer ${await token(claims)}`)).authorized).toBe(authorized);
  });

  it('hands a Cognito-shaped access token to the functions so that they see an organizer', async () => {
    const answer = await authorizer.authorize(
      `Bearer ${await token({ client_id: localAudience, token_use: 'access', 'cognito:groups': ['vip', 'organizers'], scope: 'aws.cognito.signin.user.admin' })}`,
    );
    if (!answer.authorized) throw new Error(answer.reason);
    expect(answer.claims['cognito:groups']).toBe('[vip organizers]');
    const request = new HttpRequest({ requestContext: { authorizer: { jwt: { claims: answer.claims, scopes: null } } } } as unknown as HttpApiEvent);
    expect(organizer(request, { groupsClaim: 'cognito:groups', organizerGroup: 'organizers' })).toEqual({ sub: 'alice', groups: ['vip', 'organizers'] });
  });
});

describe('the local JWT authorizer remembers verified tokens only until they expire', () => {
  it('refuses a remembered token once its exp has passed', async () => {
    let now = Date.now();
    const clocked = new JwtAuthorizer({ ...settings, jwks: { keys: [publicPart(privateJwk)] } }, () => now);
    const shortLived = await token({ aud: localAudience, exp: Math.floor(now / 1000) + 2 });
    expect((await clocked.authorize(`Bearer ${shortLived}`)).authorized).toBe(true);
    expect((await clocked.authorize(`Bearer ${shortLived}`)).authorized).toBe(true); // remembered
    now += 3_000;
    expect(await clocked.authorize(`Bearer ${shortLived}`)).toEqual({ authorized: false, reason: 'the token has expired' });
  });
});

describe('the local token issuer', () => {
  it('issues tokens a little in the past, so an authorizer whose clock is a few seconds behind still accepts them', async () => {
    const tokens = await TokenIssuer.create({ issuer, audience: localAudience, groupsClaim: 'cognito:groups' }, privateJwk);
    const minted = await tokens.mint({ sub: 'alice' });
    const behind = new JwtAuthorizer({ ...settings, jwks: tokens.jwks() }, () => Date.now() - 5_000);
    const answer = await behind.authorize(`Bearer ${minted}`);
    expect(answer.authorized).toBe(true);
    if (answer.authorized) expect(Number(answer.claims.exp) - Number(answer.claims.iat)).toBe(3_600 + issuedInThePastSeconds);
  });
});
