import { Forbidden, Unauthorized } from '../domain/errors';
import type { HttpRequest } from './request';

/**
 * Who is calling, from the claims API Gateway's JWT authorizer verified and put in
 * `requestContext.authorizer.jwt.claims`. Functions never verify tokens themselves: on AWS the
 * authorizer does, locally the stand-in for API Gateway does the same (local/jwt-authorizer.ts).
 */
export interface Caller {
  /** The token's `sub`: the buyer. */
  readonly sub: string;
  readonly groups: readonly string[];
}

export interface IdentitySettings {
  /** The claim listing the caller's groups (StampedeConfig.groupsClaim). */
  readonly groupsClaim: string;
  /** Members of this group may create events (StampedeConfig.organizerGroup). */
  readonly organizerGroup: string;
}

/** Subjects longer than this are no identity we issue or trust (DynamoDB keys hold them). */
export const maxSubjectLength = 256;

/** The caller of a route that needs a buyer: any valid token. */
export function buyer(request: HttpRequest, settings: IdentitySettings): Caller {
  const claims = request.claims;
  const sub = claims?.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > maxSubjectLength) throw new Unauthorized();
  return { sub, groups: groupsOf(claims?.[settings.groupsClaim]) };
}

/** The caller of a route only organizers may use. */
export function organizer(request: HttpRequest, settings: IdentitySettings): Caller {
  const caller = buyer(request, settings);
  if (!caller.groups.includes(settings.organizerGroup)) {
    throw new Forbidden(`Only members of the '${settings.organizerGroup}' group may create events.`);
  }
  return caller;
}

/**
 * The groups claim as API Gateway hands it over: an array claim becomes one string,
 * `"[organizers vip]"` (measured on the HTTP API JWT authorizer), split here on whitespace, so a
 * group whose name holds a space cannot be told apart in that form (Cognito's group names hold
 * none). An actual array, or a plain string as one group's name, are read too, so the functions
 * do not depend on that quirk staying; nothing else is split, so `"x organizers"` as one name
 * does not make an organizer.
 */
export function groupsOf(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.map(String);
  if (typeof claim !== 'string') return [];
  const bracketed = /^\[(.*)\]$/s.exec(claim.trim());
  if (!bracketed) return claim.trim() === '' ? [] : [claim.trim()];
  return bracketed[1]!.split(/\s+/).filter((group) => group.length > 0);
}
