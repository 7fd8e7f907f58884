/**
 * `npm run token`: bearer tokens for trying Stampede.
 *
 *   npm run token -- --sub alice [--group organizers]      a token from the running `npm start`
 *   npm run token -- --new-load-test-key [--out <dir>]       a key pair for a sandbox stage's load-test issuer
 *   npm run token -- --sub alice --load-test-key <private.jwk.json> --target <ApiUrl> [--group organizers]
 *                                                            a token a deployed load-test stage trusts, minted offline
 *   --count <n> with either: n tokens, one per line, for subjects <sub>-0 … <sub>-(n−1)
 *                            (a tokens file for Artillery by hand: load/rush.yml)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import { loadConfig } from '../functions/config';
import { deployedLoadTestIssuer } from '../load/load-test-issuer';
import { newPrivateJwk, publicPart, TokenIssuer } from '../local/jwt-issuer';
import { type LocalStackDescriptor, localStackFile } from '../local/local-stack';

const root = resolve(__dirname, '..');
const usage = `Usage: npm run token -- --sub <subject> [--group <name>]...
       npm run token -- --new-load-test-key [--out .stampede/load-test-issuer]
       npm run token -- --sub <subject> [--group <name>]... --load-test-key <private.jwk.json> --target <ApiUrl>
       add --count <n> for n tokens, one per line, for subjects <subject>-0 … <subject>-(n-1)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      group: { type: 'string', multiple: true },
      'new-load-test-key': { type: 'boolean' },
      out: { type: 'string' },
      'load-test-key': { type: 'string' },
      target: { type: 'string' },
      count: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return print(usage, 0);
  if (values['new-load-test-key']) return writeLoadTestKey(resolve(values.out ?? join(root, '.stampede', 'load-test-issuer')));
  const { sub } = values;
  if (!sub) return print(usage, 2);
  const count = values.count === undefined ? 1 : Number(values.count);
  if (!Number.isInteger(count) || count < 1) return print('--count takes a whole number of tokens, at least 1.', 2);
  const groups = values.group ?? [];
  let mint: (subject: string) => Promise<string>;
  if (values['load-test-key']) {
    if (!values.target) return print('--load-test-key needs --target <ApiUrl> (the stage whose load-test issuer it is).', 2);
    const { issuer, audience, privateJwk } = deployedLoadTestIssuer(values.target, JSON.parse(readFileSync(values['load-test-key'], 'utf8')) as JWK);
    const minting = await TokenIssuer.create(
      { issuer, audience, groupsClaim: loadConfig({ TABLE_NAME: 'unused', AWS_REGION: 'unused' }).groupsClaim },
      privateJwk,
    );
    mint = (subject) => minting.mint({ sub: subject, groups });
  } else {
    if (!existsSync(localStackFile)) return print('No running `npm start` found (.stampede/local-stack.json): start it first.', 2);
    const { url } = JSON.parse(readFileSync(localStackFile, 'utf8')) as LocalStackDescriptor;
    mint = (subject) => fromLocalIssuer(url, subject, groups);
  }
  const tokens: string[] = [];
  for (let n = 0; n < count; n++) tokens.push(await mint(count === 1 ? sub : `${sub}-${n}`));
  return print(tokens.join('\n'), 0);
}

async function fromLocalIssuer(url: string, sub: string, groups: readonly string[]): Promise<string> {
  const response = await fetch(`${url}/_local/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub, groups }),
  });
  const body = (await response.json()) as { token?: string; message?: string };
  if (response.status !== 201 || !body.token) throw new Error(`${url}/_local/tokens answered ${response.status}: ${JSON.stringify(body)}`);
  return body.token;
}

/** The private key stays on this machine (git-ignored); the public one goes to `cdk deploy`. */
async function writeLoadTestKey(directory: string): Promise<number> {
  const privateJwk = await newPrivateJwk();
  mkdirSync(directory, { recursive: true });
  const privateFile = join(directory, 'private.jwk.json');
  const publicFile = join(directory, 'public.jwk.json');
  writeFileSync(privateFile, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(publicFile, `${JSON.stringify(publicPart(privateJwk), null, 2)}\n`);
  return print(
    `Wrote ${relative(process.cwd(), privateFile)} (keep it private) and ${relative(process.cwd(), publicFile)}.\n` +
      `Deploy a sandbox stage that trusts it:  npx cdk deploy -c stage=<name> -c loadTestIssuerJwk=${relative(process.cwd(), publicFile)}\n` +
      `Then rush it:  npm run rush -- --target <ApiUrl> --load-test-key ${relative(process.cwd(), privateFile)} --table <TableName>`,
    0,
  );
}

function print(text: string, code: number): number {
  (code === 0 ? console.log : console.error)(text);
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
