import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { buildSync } from 'esbuild';
import { auditEvent, type AuditReport } from '../functions/audit/audit-event';
import { loadConfig } from '../functions/config';
import { createDocumentClient } from '../functions/data/dynamodb-client';
import type { StrategyName } from '../functions/domain/model';
import type { CapacitySnapshot } from '../local/capacity-meter';
import { parseArtilleryOutput, type ArtilleryOutput, type LoadReport } from './artillery-report';
import { rushPhases, type ArrivalPhase } from './phases';
import { CpuWindow } from './proc-stat';
import { measureRaw, type RawResult } from './raw-baseline';
import { answerKeys, reserveInClosedLoop, summarizeLoop, type ClosedLoopSummary } from './closed-loop';
import {
  peakHoldsPerSecond,
  projectAwsCeiling,
  ratio,
  sellingWindow,
  soldOutPath,
  type Ceiling,
  type SellingWindow,
  type SoldOutPath,
  writesBetween,
} from './rush-metrics';
import type { StackReady } from './stack-process';

/**
 * One rush: start the local stack (unless a target is given), create an event, let Artillery's
 * buyers at it (load/rush.yml), wait until the API is quiet, audit the event, and gather the
 * numbers. Used by `npm run rush` (one strategy) and `npm run bench` (all of them).
 */
export interface RushOptions {
  readonly buyers: number;
  readonly tickets: number;
  readonly strategy: StrategyName;
  /** Only for `sharded`; the API's default otherwise. */
  readonly shards?: number;
  /** Peak buyers per second (the spike phase). */
  readonly arrivalRate: number;
  /** A deployed API's URL; unset = start the local stack. */
  readonly target?: string;
  /** With a target: the deployed table to audit (your AWS credentials), and an endpoint if not AWS. */
  readonly auditTable?: string;
  readonly auditEndpoint?: string;
  /** Seconds for the raw DynamoDB baseline (local stack only); 0 skips it. */
  readonly rawSeconds: number;
  /** Seconds of the closed-loop sold-out probe after the rush (closed-loop.ts); 0 skips it. @default 5 */
  readonly soldOutProbeSeconds?: number;
  /**
   * Seconds of raw holds on a throwaway event before anything is measured: a fresh DynamoDB
   * Local JVM needs JIT warm-up (2-3× slower for its first ~10-20 s).
   * @default 5 (`npm run rush` and `npm run bench` pass 30, rushDefaults)
   */
  readonly warmUpSeconds?: number;
  /** A DynamoDB Local that is already running (the bench shares one); its pid for CPU accounting. */
  readonly dynamoDb?: { readonly endpoint: string; readonly pid?: number };
  /** @default 'stampede-rush' (the bench uses one table per strategy) */
  readonly tableName?: string;
  /** Where Artillery's output, the logs and result.json go. */
  readonly outputDir: string;
  readonly log: (line: string) => void;
}

export type Process = 'artillery' | 'api' | 'dynamodb';

export interface RushResult {
  readonly options: Omit<RushOptions, 'log'>;
  readonly startedAt: string;
  /** The whole command: stack start to audit. */
  readonly wallSeconds: number;
  readonly eventId: string;
  readonly shards: number;
  readonly phases: readonly ArrivalPhase[];
  readonly artilleryExitCode: number;
  readonly load: LoadReport;
  readonly audit?: AuditReport;
  /** Why there is no audit, when there is none. */
  readonly auditSkipped?: string;
  /** False when the API still had requests in flight at the audit (it may then see half-made holds). */
  readonly quiet: boolean;
  readonly capacity?: Omit<CapacitySnapshot, 'timeline'>;
  readonly telemetry?: Record<string, number>;
  readonly raw?: RawResult;
  /** The API's holds in a closed loop before the rush, beside the raw baseline (closed-loop.ts). */
  readonly apiClosedLoop?: ClosedLoopSummary;
  /** The sold-out path at full speed, after the rush; `writes` when the capacity meter can tell. */
  readonly soldOutProbe?: ClosedLoopSummary & { readonly writes?: number };
  /** Why there is no probe, when there is none. */
  readonly soldOutProbeSkipped?: string;
  /** CPU seconds used while the buyers arrived (first phase start to the last buyer done). */
  readonly cpuSeconds: Partial<Record<Process, number>>;
  readonly derived: Derived;
}

export interface Derived {
  readonly selling?: SellingWindow;
  readonly soldOutPath?: SoldOutPath;
  /** Tickets sold (audit) per second of the selling window. */
  readonly ticketsPerSecond?: number;
  readonly holdsPerSecond?: number;
  /** The probe's sold-out answers/s ÷ the rush's holds/s while selling: the issue's "≥ 3× the reserve rate". */
  readonly soldOutProbeTimesHoldRate?: number;
  /** The probe's sold-out answers/s ÷ the API's closed-loop holds/s: both paths at full speed, the stricter ratio. */
  readonly soldOutProbeTimesApiHoldRate?: number;
  /** The busiest 5 s of holds (see peakHoldsPerSecond): the API's hold capacity when it is saturated. */
  readonly peakHoldsPerSecond?: number;
  /** The API's closed-loop holds/s ÷ raw holds/s: the cost of HTTP and handlers, nothing else running. */
  readonly apiToRaw?: number;
  /** peakHoldsPerSecond ÷ raw holds/s: the same under the rush, with Artillery on the same cores. */
  readonly rushPeakToRaw?: number;
  /** The peak hold rate is near the arrival rate: the API was not saturated, so rushPeakToRaw understates it. */
  readonly arrivalLimited?: boolean;
  readonly cpuSecondsPerRequest: Partial<Record<Process, number>>;
  /** Whole run: DynamoDB writes made while answering sold-out. */
  readonly writesPerSoldOutAnswer?: number;
  readonly readsPerSoldOutAnswer?: number;
  /** Counted with AWS's rules; `measured*` from DynamoDB Local's ConsumedCapacity (successful calls only). */
  readonly writeUnitsPerTicket?: number;
  readonly readUnitsPerTicket?: number;
  readonly measuredWriteUnitsPerTicket?: number;
  readonly measuredReadUnitsPerTicket?: number;
  readonly hottestKey?: { readonly pk: string; readonly writeUnits: number; readonly shareOfWrites: number };
  /** Counting every write to the hottest key, failed ones too (AWS bills a failed conditional write). */
  readonly ceiling?: Ceiling;
  /**
   * Counting only the writes that succeeded: the bound if failed attempts (shard misses at the
   * end of each shard, cancelled transactions) cost nothing. The truth is between the two.
   */
  readonly ceilingSucceededOnly?: Ceiling;
}

const root = resolve(__dirname, '..');
const rushScript = join(root, 'load', 'rush.yml');
const processorSource = join(root, 'load', 'buyer.ts');
const compatShim = join(root, 'load', 'artillery-compat.cjs');
const stackEntry = join(root, 'load', 'stack-process.ts');
/**
 * How long to wait for the API to finish requests whose buyers gave up: the audit must see a quiet
 * event. `optimistic` at 100,000 buyers keeps selling to its queue for ~10 minutes after Artillery.
 */
const quietTimeoutMs = 1_200_000;
/** Below the API's request concurrency limit (64): enough to keep it busy without queueing there. */
const soldOutProbeConcurrency = 32;
/** Requests in flight for the raw baseline and the API's closed loop: the API's STAMPEDE_MAX_SOCKETS. */
const rawConcurrency = 64;

export async function runRush(options: RushOptions): Promise<RushResult> {
  const started = Date.now();
  const { log } = options;
  mkdirSync(options.outputDir, { recursive: true });
  const stack = options.target ? undefined : await startStack(options);
  try {
    const url = options.target ?? stack!.ready.url;
    const event = await createEvent(url, options, `Rush ${options.strategy}`);
    log(`Event ${event.eventId}: ${options.tickets} tickets, ${options.strategy}${event.strategy === 'sharded' ? ` (${event.shards} shards)` : ''}`);

    let raw: RawResult | undefined;
    let apiClosedLoop: ClosedLoopSummary | undefined;
    if (stack) await warmUp(url, stack.ready, options);
    if (stack && options.rawSeconds > 0) {
      raw = await rawBaseline(url, stack.ready, options);
      log(`Raw DynamoDB Local, no HTTP: ${raw.holdsPerSecond.toFixed(0)} holds/s (${raw.holds} in ${raw.seconds.toFixed(1)} s)`);
      apiClosedLoop = await apiHoldsInClosedLoop(url, options);
      log(`The API in a closed loop, same ${rawConcurrency} in flight: ${apiClosedLoop.perSecond.toFixed(0)} holds/s (${apiClosedLoop.count} in ${apiClosedLoop.seconds.toFixed(1)} s)${others(apiClosedLoop)}`);
    }
    if (stack) await postJson(`${url}/_local/reset`, {});

    const phases = rushPhases(options.buyers, options.arrivalRate);
    log(`Artillery: ${options.buyers} buyers, peak ${options.arrivalRate}/s (${phases.map((p) => `${p.name} ${p.arrivalCount} in ${p.duration} s`).join(', ')})`);
    const artilleryOutput = join(options.outputDir, 'artillery.json');
    const { exitCode: artilleryExitCode, cpuSeconds } = await runArtillery({
      url,
      eventId: event.eventId,
      phases,
      output: artilleryOutput,
      options,
      pids: { api: stack?.ready.pid, dynamodb: stack?.ready.dynamoDbPid ?? options.dynamoDb?.pid },
    });
    const load = parseArtilleryOutput(JSON.parse(readFileSync(artilleryOutput, 'utf8')) as ArtilleryOutput);

    let capacity: CapacitySnapshot | undefined;
    let telemetry: Record<string, number> | undefined;
    if (stack) {
      capacity = await waitUntilQuiet(url, log);
      telemetry = (await getJson(`${url}/_local/telemetry`)) as Record<string, number>;
    }
    // Before the audit, so the audit also proves the probe's refusals changed nothing.
    const probe = await runSoldOutProbe(url, event.eventId, stack !== undefined, options);
    const { audit, skipped } = await runAudit(event.eventId, stack?.ready, options);
    const result: RushResult = {
      options: withoutLog(options),
      startedAt: new Date(started).toISOString(),
      wallSeconds: (Date.now() - started) / 1000,
      eventId: event.eventId,
      shards: event.shards,
      phases,
      artilleryExitCode,
      load,
      audit,
      auditSkipped: skipped,
      quiet: capacity === undefined || capacity.inFlight === 0,
      capacity: capacity && withoutTimeline(capacity),
      telemetry,
      raw,
      apiClosedLoop,
      soldOutProbe: probe.result,
      soldOutProbeSkipped: probe.skipped,
      cpuSeconds,
      derived: derive(load, audit, capacity, raw, cpuSeconds, { arrivalRate: options.arrivalRate, apiClosedLoop, soldOutProbe: probe.result }),
    };
    writeFileSync(join(options.outputDir, 'result.json'), `${JSON.stringify({ ...result, timeline: capacity?.timeline }, null, 2)}\n`);
    return result;
  } finally {
    await stack?.stop();
  }
}

/** The numbers that combine several sources; pure. */
export function derive(
  load: LoadReport,
  audit: AuditReport | undefined,
  capacity: CapacitySnapshot | undefined,
  raw: RawResult | undefined,
  cpuSeconds: Partial<Record<Process, number>>,
  loops: {
    /** Peak buyers per second, to tell an arrival-limited hold rate. */
    readonly arrivalRate?: number;
    readonly apiClosedLoop?: ClosedLoopSummary;
    readonly soldOutProbe?: ClosedLoopSummary;
  } = {},
): Derived {
  const { arrivalRate } = loops;
  const selling = capacity && sellingWindow(capacity.timeline);
  const peak = capacity && peakHoldsPerSecond(capacity.timeline);
  const sold = audit?.sold ?? load.ticketsWon;
  const soldOutAnswers = capacity?.outcomes['ReserveTickets 409 sold_out'];
  const hottest = capacity?.hottestKeys[0];
  const holds = capacity?.outcomes['ReserveTickets 201']?.requests ?? load.holds;
  const perRequest = Object.fromEntries(
    Object.entries(cpuSeconds).map(([name, seconds]) => [name, ratio(seconds, load.responses)]),
  ) as Partial<Record<Process, number>>;
  return {
    selling,
    soldOutPath: capacity && selling && soldOutPath(capacity.timeline, selling.lastSecond),
    ticketsPerSecond: selling ? sold / selling.seconds : undefined,
    holdsPerSecond: selling?.holdsPerSecond,
    peakHoldsPerSecond: peak,
    soldOutProbeTimesHoldRate: ratio(loops.soldOutProbe?.perSecond, selling?.holdsPerSecond),
    soldOutProbeTimesApiHoldRate: ratio(loops.soldOutProbe?.perSecond, loops.apiClosedLoop?.perSecond),
    apiToRaw: ratio(loops.apiClosedLoop?.perSecond, raw?.holdsPerSecond),
    rushPeakToRaw: ratio(peak, raw?.holdsPerSecond),
    arrivalLimited: peak !== undefined && arrivalRate !== undefined ? peak >= 0.9 * arrivalRate : undefined,
    cpuSecondsPerRequest: perRequest,
    writesPerSoldOutAnswer: soldOutAnswers && ratio(soldOutAnswers.writes, soldOutAnswers.requests),
    readsPerSoldOutAnswer: soldOutAnswers && ratio(soldOutAnswers.reads, soldOutAnswers.requests),
    writeUnitsPerTicket: capacity && ratio(capacity.totals.writeUnits, sold),
    readUnitsPerTicket: capacity && ratio(capacity.totals.readUnits, sold),
    measuredWriteUnitsPerTicket: capacity && ratio(capacity.totals.consumedWriteUnits, sold),
    measuredReadUnitsPerTicket: capacity && ratio(capacity.totals.consumedReadUnits, sold),
    hottestKey: hottest && {
      pk: hottest.pk,
      writeUnits: hottest.writeUnits,
      shareOfWrites: ratio(hottest.writeUnits, capacity.totals.writeUnits) ?? 0,
    },
    ceiling: hottest && projectAwsCeiling({ hottestKeyWriteUnits: hottest.writeUnits, soldTickets: sold, holds }),
    ceilingSucceededOnly:
      capacity && capacity.hottestKeys.length > 0
        ? projectAwsCeiling({
            hottestKeyWriteUnits: Math.max(...capacity.hottestKeys.map((key) => key.writeUnits - (key.failedWriteUnits ?? 0))),
            soldTickets: sold,
            holds,
          })
        : undefined,
  };
}

// ---- the local stack, as a child process --------------------------------------------------

interface RunningStack {
  readonly ready: StackReady;
  stop(): Promise<void>;
}

async function startStack(options: RushOptions): Promise<RunningStack> {
  const logFile = join(options.outputDir, 'api.log');
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, ['--import', 'tsx', stackEntry], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      ...process.env,
      TABLE_NAME: options.tableName ?? 'stampede-rush',
      DYNAMODB_ENDPOINT: options.dynamoDb?.endpoint ?? process.env.DYNAMODB_ENDPOINT,
      // The control strategy is refused unless the API process allows it.
      STAMPEDE_ALLOW_UNSAFE: options.strategy === 'unsafe' ? '1' : process.env.STAMPEDE_ALLOW_UNSAFE,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const ready = await new Promise<StackReady>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`The local stack did not start within 60 s; see ${logFile}`)), 60_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolveReady(message as StackReady);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The local stack exited with ${code} before it was ready; see ${logFile}`));
    });
  });
  const dynamoPid = ready.dynamoDbPid ?? options.dynamoDb?.pid;
  options.log(`Local stack: API ${ready.url} (pid ${ready.pid}), DynamoDB Local ${ready.dynamoDbEndpoint} (pid ${dynamoPid ?? 'unknown'}), table ${ready.tableName}`);
  return { ready, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolveStop();
    });
    // Closing the IPC channel asks it to stop DynamoDB Local and exit.
    if (child.connected) child.disconnect();
    else child.kill('SIGTERM');
  });
}

// ---- Artillery ---------------------------------------------------------------------------

interface ArtilleryRun {
  readonly url: string;
  readonly eventId: string;
  readonly phases: readonly ArrivalPhase[];
  readonly output: string;
  readonly options: RushOptions;
  /** The other processes whose CPU time is read over the same window as Artillery's. */
  readonly pids: Partial<Record<Process, number>>;
}

function runArtillery({ url, eventId, phases, output, options, pids }: ArtilleryRun): Promise<{ exitCode: number; cpuSeconds: Partial<Record<Process, number>> }> {
  // Bundled here rather than by Artillery, into this run's directory: concurrent rushes
  // would otherwise share (and delete) load/dist/.
  const processor = join(options.outputDir, 'buyer.js');
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
    JSON.stringify({ eventId }),
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
  const cpu = new CpuWindow<Process>({ ...pids, artillery: child.pid });
  const logFile = createWriteStream(join(options.outputDir, 'artillery.log'));
  let started = false;
  let finished = false;
  const onLine = (line: string) => {
    logFile.write(`${line}\n`);
    if (/^Phase started/.test(line)) {
      if (!started) {
        started = true;
        cpu.start();
      }
      options.log(`  ${line.replace(/ \d\d:\d\d:\d\d\(.*$/, '')}`);
    } else if (/^All VUs finished/.test(line) && !finished) {
      finished = true;
      cpu.end();
      options.log(`  ${line}`);
    } else if (/^(fail|ok): /.test(line) || /^(Error|ERROR)/.test(line)) {
      options.log(`  Artillery ${line}`);
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', (line) => logFile.write(`${line}\n`));
  return new Promise((resolveExit, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      logFile.end();
      if (!finished) options.log(`  Artillery stopped before all buyers finished (${signal ?? code}); see ${join(options.outputDir, 'artillery.log')}`);
      resolveExit({ exitCode: code ?? 1, cpuSeconds: cpu.used() });
    });
  });
}

// ---- the API -----------------------------------------------------------------------------

interface CreatedEvent {
  readonly eventId: string;
  readonly strategy: StrategyName;
  readonly shards: number;
}

async function createEvent(url: string, options: RushOptions, name: string, capacity = options.tickets): Promise<CreatedEvent> {
  return (await postJson(`${url}/events`, {
    name,
    capacity,
    strategy: options.strategy,
    ...(options.shards !== undefined && { shards: options.shards }),
  })) as CreatedEvent;
}

/** Raw holds on a throwaway event, so the raw number and the rush both meet a warm JVM. */
async function warmUp(url: string, ready: StackReady, options: RushOptions): Promise<void> {
  const seconds = options.warmUpSeconds ?? 5;
  if (seconds <= 0) return;
  const event = await createEvent(url, options, 'Warm-up', 1_000_000);
  const warm = await measureRaw(event, { endpoint: ready.dynamoDbEndpoint, tableName: ready.tableName, seconds });
  options.log(`Warm-up: ${warm.holds} raw holds in ${warm.seconds.toFixed(1)} s (${warm.holdsPerSecond.toFixed(0)}/s)`);
}

/** The same writes per hold straight to DynamoDB Local, on an event like the rush's. */
async function rawBaseline(url: string, ready: StackReady, options: RushOptions): Promise<RawResult> {
  const event = await createEvent(url, options, 'Raw baseline');
  return measureRaw(event, { endpoint: ready.dynamoDbEndpoint, tableName: ready.tableName, seconds: options.rawSeconds, concurrency: rawConcurrency });
}

async function waitUntilQuiet(url: string, log: (line: string) => void): Promise<CapacitySnapshot> {
  const deadline = Date.now() + quietTimeoutMs;
  for (let waited = 0; ; waited++) {
    const snapshot = (await getJson(`${url}/_local/capacity`)) as CapacitySnapshot;
    if (snapshot.inFlight === 0) return snapshot;
    if (Date.now() > deadline) {
      log(`The API still has ${snapshot.inFlight} request(s) in flight after ${quietTimeoutMs / 1000} s; auditing anyway.`);
      return snapshot;
    }
    if (waited % 10 === 0) log(`Waiting for the ${snapshot.inFlight} request(s) still in the API (buyers who gave up waiting)...`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 1_000));
  }
}

/**
 * Holds through the API on an event of its own, as many in flight as the raw baseline. The
 * capacity meter is paused meanwhile: the raw baseline has none, and it is not part of the API.
 */
async function apiHoldsInClosedLoop(url: string, options: RushOptions): Promise<ClosedLoopSummary> {
  const event = await createEvent(url, options, 'API closed loop');
  await postJson(`${url}/_local/meter/pause`, {});
  try {
    const loop = await reserveInClosedLoop({ url, eventId: event.eventId, seconds: options.rawSeconds, concurrency: rawConcurrency, buyerPrefix: 'closed-loop' });
    return summarizeLoop(loop, answerKeys.hold);
  } finally {
    await postJson(`${url}/_local/meter/resume`, {});
  }
}

async function runSoldOutProbe(
  url: string,
  eventId: string,
  metered: boolean,
  options: RushOptions,
): Promise<{ result?: ClosedLoopSummary & { writes?: number }; skipped?: string }> {
  const seconds = options.soldOutProbeSeconds ?? 5;
  if (seconds <= 0) return { skipped: 'turned off' };
  const { available } = (await getJson(`${url}/events/${eventId}`)) as { available: number };
  // Tickets released after the last buyer came are back on sale: the probe would buy them.
  if (available > 0) return { skipped: `the event was not sold out (${available} available)` };
  const before = metered ? ((await getJson(`${url}/_local/capacity`)) as CapacitySnapshot) : undefined;
  const loop = await reserveInClosedLoop({ url, eventId, seconds, concurrency: soldOutProbeConcurrency, buyerPrefix: 'sold-out-probe' });
  const after = before ? ((await getJson(`${url}/_local/capacity`)) as CapacitySnapshot) : undefined;
  const writes = before && after ? writesBetween(before.outcomes, after.outcomes) : undefined;
  const probe = summarizeLoop(loop, answerKeys.soldOut);
  options.log(
    `Sold-out probe: ${probe.count} sold-out answers in ${probe.seconds.toFixed(1)} s (${probe.perSecond.toFixed(0)}/s, ` +
      `${probe.concurrency} clients)${others(probe)}${writes === undefined ? '' : `, ${writes} DynamoDB writes`}`,
  );
  return { result: { ...probe, writes } };
}

function others(loop: ClosedLoopSummary): string {
  return Object.entries(loop.otherAnswers).map(([answer, count]) => `, ${count} × ${answer}`).join('');
}

async function runAudit(
  eventId: string,
  ready: StackReady | undefined,
  options: RushOptions,
): Promise<{ audit?: AuditReport; skipped?: string }> {
  const tableName = ready?.tableName ?? options.auditTable;
  if (!tableName) return { skipped: 'no table to audit: pass --table (and --endpoint if not AWS) with --target' };
  const endpoint = ready?.dynamoDbEndpoint ?? options.auditEndpoint;
  const config = loadConfig({ ...process.env, TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint });
  const db = createDocumentClient(config);
  try {
    return { audit: await auditEvent(db, tableName, eventId, Date.now()) };
  } finally {
    db.destroy();
  }
}

async function postJson(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

function withoutLog({ log: _log, ...rest }: RushOptions): Omit<RushOptions, 'log'> {
  return rest;
}

function withoutTimeline({ timeline: _timeline, ...rest }: CapacitySnapshot): Omit<CapacitySnapshot, 'timeline'> {
  return rest;
}
