/**
 * `npm run jwt-cost`: what a token costs the local API's CPU, measured alone (a rush cannot
 * isolate it): minting one (the rush does it before it starts), verifying it the first time, and
 * again (the local stand-in for the JWT authorizer remembers a verified token until it expires).
 * On AWS the HTTP API's authorizer verifies, not the functions. Process CPU time, so other load
 * on the machine does not count; run it twice and compare.
 *
 *   npm run jwt-cost -- [--tokens 2000]
 */
import { parseArgs } from 'node:util';
import { JwtAuthorizer } from '../local/jwt-authorizer';
import { localAudience, TokenIssuer } from '../local/jwt-issuer';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tokens: { type: 'string' } } });
  const count = Number(values.tokens ?? 2_000);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--tokens must be a positive integer, got '${values.tokens}'`);
  const issuer = await TokenIssuer.create({
    issuer: 'http://127.0.0.1:3000',
    audience: localAudience,
    groupsClaim: 'groups' /* no token here carries groups */,
  });
  const authorizer = new JwtAuthorizer({ issuer: issuer.issuer, audiences: [localAudience], jwks: issuer.jwks() });

  const tokens: string[] = [];
  const mint = await cpuMsPer(count, async (n) => {
    tokens.push(await issuer.mint({ sub: `buyer-${n}` }));
  });
  const verify = async (n: number) => {
    const answer = await authorizer.authorize(`Bearer ${tokens[n]}`);
    if (!answer.authorized) throw new Error(`Token ${n} refused: ${answer.reason}`);
  };
  const firstVerification = await cpuMsPer(count, verify);
  const remembered = await cpuMsPer(count, verify);
  console.log(
    `${count} RS256 tokens, CPU ms each: mint ${mint.toFixed(3)}, verify ${firstVerification.toFixed(3)}, verify again (remembered) ${remembered.toFixed(3)}`,
  );
}

/** Process CPU milliseconds per call of `work`, over `count` calls one after another. */
async function cpuMsPer(count: number, work: (n: number) => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  for (let n = 0; n < count; n++) await work(n);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1_000 / count;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
