/**
 * `npm run bundle-report -- [--cdk-out <dir>] [--runs 15]`: what each deployed function costs
 * to ship and to start. For every Lambda function in a synthesized template: its bundle's size
 * (raw and gzipped) and the median time a fresh Node process takes to `require()` it, which is
 * most of a cold start's init phase. Without --cdk-out it synthesizes the app first (bundling).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const { values } = parseArgs({ options: { 'cdk-out': { type: 'string' }, runs: { type: 'string', default: '15' } } });
const runs = Number(values.runs);
const root = resolve(__dirname, '..');
const cdkOut = values['cdk-out'] ? resolve(values['cdk-out']) : synthesize();

const templateFile = readdirSync(cdkOut).find((name) => name.endsWith('.template.json'));
if (!templateFile) throw new Error(`No template in ${cdkOut}`);
const template = JSON.parse(readFileSync(join(cdkOut, templateFile), 'utf8')) as {
  Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string }; Description?: string } }>;
};

console.log(`function | bundle KB | gzip KB | cold require ms (median of ${runs})`);
for (const [id, resource] of Object.entries(template.Resources)) {
  const key = resource.Type === 'AWS::Lambda::Function' ? resource.Properties.Code?.S3Key : undefined;
  if (!key) continue;
  const bundle = join(cdkOut, `asset.${key.replace(/\.zip$/, '')}`, 'index.js');
  const size = statSync(bundle).size;
  const gzip = gzipSync(readFileSync(bundle)).length;
  const times = Array.from({ length: runs }, () => requireTime(bundle)).sort((a, b) => a - b);
  console.log(`${id.replace(/[0-9A-F]{8}$/, '')} | ${(size / 1024).toFixed(0)} | ${(gzip / 1024).toFixed(0)} | ${times[Math.floor(runs / 2)]!.toFixed(1)}`);
}

/** One fresh process: the time `require()` of the bundle takes, module init included. */
function requireTime(bundle: string): number {
  const script = `const t = process.hrtime.bigint(); require(${JSON.stringify(bundle)}); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  const env = {
    ...process.env,
    TABLE_NAME: 'bundle-report',
    AWS_REGION: 'us-east-1',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  return Number(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
}

function synthesize(): string {
  const out = mkdtempSync(join(tmpdir(), 'stampede-bundles-'));
  execFileSync('npx', ['cdk', 'synth', '--quiet', '-c', 'stage=bundles', '-o', out], { cwd: root, stdio: 'inherit' });
  return out;
}
