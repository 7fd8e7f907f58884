import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { buildSync } from 'esbuild';
import { maxNice } from './cli-options';
import type { Process } from './derived';
import type { ArrivalPhase } from './phases';
import { CpuWindow } from './proc-stat';

/**
 * Runs Artillery's buyers (load/rush.yml with load/buyer.ts) against a URL and reads the CPU
 * time of Artillery and of the other processes over the same window: from the first phase to
 * the moment every virtual user is done.
 */
const root = resolve(__dirname, '..');
const rushScript = join(root, 'load', 'rush.yml');
const processorSource = join(root, 'load', 'buyer.ts');
const compatShim = join(root, 'load', 'artillery-compat.cjs');

export interface ArtilleryRun {
  readonly url: string;
  readonly eventId: string;
  /** One bearer token per line, one per buyer (load/tokens.ts). */
  readonly tokensFile: string;
  /** Where each buyer appends their place in the buyers' line (load/buyer.ts, BuyerLine); unset = nowhere. */
  readonly linesFile?: string;
  readonly phases: readonly ArrivalPhase[];
  readonly output: string;
  /** Where the processor bundle, the log and the output go. */
  readonly outputDir: string;
  readonly log: (line: string) => void;
  /** The other processes whose CPU time is read over the same window as Artillery's. */
  readonly pids: Partial<Record<Process, number>>;
  /** Artillery's niceness (0-19): how much lower its CPU priority is than the stack's. */
  readonly nice: number;
}

export function runArtillery({
  url,
  eventId,
  tokensFile,
  linesFile,
  phases,
  output,
  outputDir,
  log,
  pids,
  nice,
}: ArtilleryRun): Promise<{ exitCode: number; cpuSeconds: Partial<Record<Process, number>> }> {
  // Bundled here rather than by Artillery, into this run's directory: concurrent rushes
  // would otherwise share (and delete) load/dist/.
  const processor = join(outputDir, 'buyer.js');
  buildSync({ entryPoints: [processorSource], outfile: processor, bundle: true, platform: 'node', format: 'cjs', logLevel: 'warning' });
  const artillery = join(dirname(require.resolve('artillery/package.json')), 'bin', 'run');
  const args = [
    '--require',
    compatShim,
    artillery,
    'run',
    rushScript,
    '--target',
    url,
    '--variables',
    JSON.stringify({ eventId, tokensFile, ...(linesFile && { linesFile }) }),
    '--overrides',
    JSON.stringify({ config: { phases, processor } }),
    '--output',
    output,
  ];
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true' },
  });
  if (child.pid !== undefined && nice > 0) lowerPriority(child.pid, nice, log);
  const cpu = new CpuWindow<Process>({ ...pids, artillery: child.pid });
  const logFile = createWriteStream(join(outputDir, 'artillery.log'));
  let started = false;
  let finished = false;
  const onLine = (line: string) => {
    logFile.write(`${line}\n`);
    if (/^Phase started/.test(line)) {
      if (!started) {
        started = true;
        cpu.start();
      }
      log(`  ${line.replace(/ \d\d:\d\d:\d\d\(.*$/, '')}`);
    } else if (/^All VUs finished/.test(line) && !finished) {
      finished = true;
      cpu.end();
      log(`  ${line}`);
    } else if (/^(fail|ok): /.test(line) || /^(Error|ERROR)/.test(line)) {
      log(`  Artillery ${line}`);
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', (line) => logFile.write(`${line}\n`));
  return new Promise((resolveExit, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      logFile.end();
      if (!finished) log(`  Artillery stopped before all buyers finished (${signal ?? code}); see ${join(outputDir, 'artillery.log')}`);
      resolveExit({ exitCode: code ?? 1, cpuSeconds: cpu.used() });
    });
  });
}

/**
 * Artillery, the API and DynamoDB Local share the machine's cores, where on AWS (or in any load
 * test with its own load generators) the buyers' machines are not the servers'. At the same
 * priority, a saturated 2-core machine let Artillery take CPU from the API, whose event loop then
 * fell so far behind that it accepted only a few connections a second and buyers timed out
 * without an answer (docs/load-testing.md, Connections). `nice` is relative to this process's
 * priority, which the stack shares, capped at 19. Set right after spawn: the worker threads
 * Artillery starts later inherit it. A lower priority needs no privilege.
 */
export function lowerPriority(pid: number, nice: number, log: (line: string) => void): void {
  try {
    setPriority(pid, Math.min(getPriority() + nice, maxNice));
  } catch (error) {
    log(`  Artillery runs at the stack's CPU priority: setting nice ${nice} failed (${(error as Error).message})`);
  }
}
