import { writeFileSync } from 'node:fs';
import { TokenIssuer } from '../local/jwt-issuer';
import type { RushIssuer } from './load-test-issuer';

/**
 * Tokens for a rush's buyers, minted before the buyers come (an RS256 signature costs about half
 * a millisecond of CPU: minted during the rush, that would be Artillery's or the API's CPU).
 * One subject per buyer, so the per-buyer limit is per buyer as in production.
 */
/** Where the stage reads groups: synth refuses `-c jwtGroupsClaim` on a stage that trusts the load-test issuer. */
const groupsClaim = 'cognito:groups';
/** Long enough for any rush: the longest ran well under an hour. */
const rushTokenSeconds = 6 * 3_600;

export interface RushTokens {
  /** `sub` = `<prefix>-<n>`, in order. */
  mint(prefix: string, count: number): Promise<string[]>;
  organizer(): Promise<string>;
}

export async function rushTokens(issuer: RushIssuer): Promise<RushTokens> {
  const minting = await TokenIssuer.create({ issuer: issuer.issuer, audience: issuer.audience, groupsClaim }, issuer.privateJwk);
  return {
    async mint(prefix, count) {
      const tokens: string[] = [];
      for (let n = 0; n < count; n++) tokens.push(await minting.mint({ sub: `${prefix}-${n}`, expiresInSeconds: rushTokenSeconds }));
      return tokens;
    },
    organizer: () => minting.mint({ sub: 'rush-organizer', groups: ['organizers'], expiresInSeconds: rushTokenSeconds }),
  };
}

/**
 * Tokens to mint for `buyers` buyers. Artillery's `arrivalCount` phases can start a few more
 * buyers than they add up to when its timers run late (a 100,000-buyer rush on a saturated
 * machine started 100,012), and a buyer without a token fails: mint 1% more, at least 64.
 */
export function buyerTokenCount(buyers: number): number {
  return buyers + Math.max(64, Math.ceil(buyers / 100));
}

/** One token per line: the Artillery processor (load/buyer.ts) hands them out, one per buyer. */
export function writeTokenFile(path: string, tokens: readonly string[]): void {
  writeFileSync(path, `${tokens.join('\n')}\n`);
}
