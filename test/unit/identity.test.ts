import { describe, expect, it } from 'vitest';
import { buyer, groupsOf, organizer } from '../../functions/http/identity';
import { HttpRequest } from '../../functions/http/request';

const settings = { groupsClaim: 'cognito:groups', organizerGroup: 'organizers' };
const withClaims = (claims?: Record<string, string | string[]>) =>
  new HttpRequest({ headers: {}, requestContext: { requestId: 'r', ...(claims && { authorizer: { jwt: { claims, scopes: null } } }) } } as never);

describe('the groups claim', () => {
  it('reads the one bracketed string API Gateway hands an array claim over as', () => {
    expect(groupsOf('[organizers vip]')).toEqual(['organizers', 'vip']);
    expect(groupsOf('[organizers]')).toEqual(['organizers']);
    expect(groupsOf('[]')).toEqual([]);
  });

  it('reads a real array, or a single name, should the form ever change', () => {
    expect(groupsOf(['organizers', 'vip'])).toEqual(['organizers', 'vip']);
    expect(groupsOf('organizers')).toEqual(['organizers']);
    expect(groupsOf(undefined)).toEqual([]);
  });

  it('never makes an organizer of a group whose name only contains the word', () => {
    expect(groupsOf(['x organizers'])).toEqual(['x organizers']);
    expect(groupsOf('x organizers')).toEqual(['x organizers']);
    expect(groupsOf('x,organizers')).toEqual(['x,organizers']);
  });

  it("cannot tell a name with a space from two names in API Gateway's bracketed form (docs/deploy.md: use a one-string claim then)", () => {
    // The gateway turns ["x organizers"] and ["x", "organizers"] into the same string.
    expect(groupsOf('[x organizers]')).toEqual(['x', 'organizers']);
    expect(groupsOf('[organizers-lite vip]')).toEqual(['organizers-lite', 'vip']);
  });
});

describe('who is calling', () => {
  it('is the token’s sub, with its groups', () => {
    expect(buyer(withClaims({ sub: 'alice', 'cognito:groups': '[vip]' }), settings)).toEqual({ sub: 'alice', groups: ['vip'] });
  });

  it('is nobody without verified claims: 401, whatever a header or body says', () => {
    for (const request of [withClaims(), withClaims({}), withClaims({ sub: '' }), withClaims({ sub: 'x'.repeat(257) })]) {
      expect(() => buyer(request, settings)).toThrow(expect.objectContaining({ code: 'unauthorized' }));
    }
  });

  it('is an organizer only in the organizers group, read from the configured claim', () => {
    expect(organizer(withClaims({ sub: 'olivia', 'cognito:groups': '[press organizers]' }), settings).sub).toBe('olivia');
    expect(() => organizer(withClaims({ sub: 'alice', 'cognito:groups': '[vip]' }), settings)).toThrow(expect.objectContaining({ code: 'forbidden' }));
    expect(() => organizer(withClaims({ sub: 'alice' }), settings)).toThrow(expect.objectContaining({ code: 'forbidden' }));
    const otherIssuer = { groupsClaim: 'groups', organizerGroup: 'sellers' };
    expect(organizer(withClaims({ sub: 'sam', groups: '[sellers]' }), otherIssuer).groups).toEqual(['sellers']);
  });
});
