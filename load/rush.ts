import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import type { AuditReport } from '../functions/audit/audit-event';
import type { StrategyName } from '../functions/domain/model';
import { sweepPeriodMs } from '../lib/jobs';
import type { CapacitySnapshot } from '../local/capacity-meter';
import { newPrivateJwk } from '../local/jwt-issuer';
import { type ArtilleryOutput, type LoadReport, parseArtilleryOutput } from './artillery-report';
import { runArtillery } from './artillery-runner';
import { rushDefaults, UsageError } from './cli-options';
import { type Derived, derive, type Process, type SweepStats } from './derived';
import { buyersLine, type Fairness, fcfsFairness } from './fairness';
import { getJson, postJson } from './http-json';
import { deployedLoadTestIssuer, localIssuer } from './load-test-issuer';
import {
  type ApiClosedLoop,
  apiHoldsInClosedLoop,
  auditTable,
  closedLoopTokens,
  createEvent,
  type EnvironmentProbe,
  type EventShape,
  probeOneEnvironment,
  rawBaseline,
  rawConcurrency,
  type SoldOutProbeResult,
  soldOutProbe,
  soldOutProbeConcurrency,
  soldOutStandIn,
  waitUntilQuiet,
  warmUp,
} from './measurements';
import { type ArrivalPhase, rushPhases } from './phases';
import type { RawResult } from './raw-baseline';
import { bookFigures, type DecisionLatency, decidedHoldsTimeline, everHeld, readReservations, settleWaitMs } from './reservation-book';
import { startStackChild } from './stack-child';
import { otherAnswers } from './summary';
import { buyerTokenCount, rushTokens, writeTokenFile } from './tokens';

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
  /**
   * With a target: the private JWK file of the stage's load-test issuer (`npm run token --
   * --new-load-test-key`; the stage was deployed with its public half), to mint buyers' tokens.
   */
  readonly loadTestKey?: string;
  /** With a target: the deployed table to audit (your AWS credentials), and an endpoint if not AWS. */
  readonly auditTable?: string;
  readonly auditEndpoint?: string;
  /** Seconds for the raw DynamoDB baseline (local stack only); 0 skips it. */
  readonly rawSeconds: number;
  /** Seconds of the closed-loop sold-out probe after the rush (closed-loop.ts); 0 skips it. @default 5 */
  readonly soldOutProbeSeconds?: number;
  /**
   * How long the event's holds last: short enough that walkaways' holds expire during the rush
   * and their tickets are sold again (the sweeper returns them). @default rushDefaults.holdSeconds (at least the API's `limits.holdSeconds.min`)
   */
  readonly holdSeconds?: number;
  /**
   * How much lower Artillery's CPU priority is than the API's and DynamoDB Local's (Unix nice,
   * 0-19): on a shared machine the stack under test is served first. @default 10
   */
  readonly artilleryNice?: number;
  /**
   * How often the sweeper runs: the local stack's timer, or the deployed schedule (every minute).
   * The rush waits for the last holds to expire and be swept before the audit.
   * @default sweepPeriodMs: the local timer's interval (sweeperJob.locallyEveryMs), or a minute with a target
   */
  readonly sweepIntervalMs?: number;
  /**
   * Seconds of raw holds on a throwaway event before anything is measured: a fresh DynamoDB
   * Local JVM needs JIT warm-up (2-3× slower for its first ~10-20 s).
   * @default 5 (`npm run rush` and `npm run bench` pass 30, rushDefaults)
   */
  readonly warmUpSeconds?: number;
  /** @default 'stampede-rush' (the bench uses one table per strategy) */
  readonly tableName?: string;
  /** Where Artillery's output, the logs and result.json go. */
  readonly outputDir: string;
  readonly log: (line: string) => void;
}

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
  readonly apiClosedLoop?: ApiClosedLoop;
  /** The sold-out path at full speed, after the rush; `writes` when the capacity meter can tell. */
  readonly soldOutProbe?: SoldOutProbeResult;
  /** Why there is no probe, when there is none. */
  readonly soldOutProbeSkipped?: string;
  /** One Lambda environment's model (one client): refusals and event-page reads, and their read units. */
  readonly environmentProbes?: { readonly refusals?: EnvironmentProbe; readonly eventPage?: EnvironmentProbe };
  /** What the local sweeper did during the rush (GET /_local/sweeper). */
  readonly sweeps?: SweepStats;
  /**
   * Against a strict first-come-first-served line (fairness.ts): the line of requests the table
   * recorded (a reservation item each, by createdAt), and the line of every buyer by their first
   * attempt (the buyers' own records, buyer.ts). Either is absent when its source is.
   */
  readonly fairness?: { readonly written?: Fairness; readonly buyers?: Fairness };
  /** `queued`: ms from a request's arrival (createdAt) to its decision (decidedAt), from the table. */
  readonly decisionLatency?: DecisionLatency;
  /** CPU seconds used while the buyers arrived (first phase start to the last buyer done). */
  readonly cpuSeconds: Partial<Record<Process, number>>;
  readonly derived: Derived;
}

export async function runRush(options: RushOptions): Promise<RushResult> {
  const started = Date.now();
  const { log } = options;
  mkdirSync(options.outputDir, { recursive: true });
  if (options.target && !options.loadTestKey) {
    throw new UsageError(
      '--target needs --load-test-key <private.jwk.json>: the stage must trust its load-test issuer to let a rush mint buyers (docs/deploy.md).',
    );
  }
  // Locally the rush chooses the local issuer's key, so it can mint every token itself.
  const issuerKey = options.loadTestKey ? (JSON.parse(readFileSync(options.loadTestKey, 'utf8')) as JWK) : await newPrivateJwk();
  const stack = options.target
    ? undefined
    : await startStackChild({
        tableName: options.tableName ?? 'stampede-rush',
        allowUnsafe: options.strategy === 'unsafe',
        environment: { STAMPEDE_LOCAL_ISSUER_KEY: JSON.stringify(issuerKey) },
        outputDir: options.outputDir,
      });
  try {
    const shape = { strategy: options.strategy, shards: options.shards };
    if (stack) {
      const { ready } = stack;
      log(
        `Local stack: API ${ready.url} (pid ${ready.pid}), DynamoDB Local ${ready.dynamoDbEndpoint} (pid ${ready.dynamoDbPid ?? 'unknown'}), table ${ready.tableName}`,
      );
    }
    const url = options.target ?? stack!.ready.url;
    const mintStarted = Date.now();
    const tokens = await rushTokens(options.target ? deployedLoadTestIssuer(options.target, issuerKey) : localIssuer(url, issuerKey));
    const api = { url, organizerToken: await tokens.organizer() };
    const tokensFile = join(options.outputDir, 'tokens.txt');
    const buyerTokens = buyerTokenCount(options.buyers);
    writeTokenFile(tokensFile, await tokens.mint('buyer', buyerTokens));
    const loopTokens = await tokens.mint('closed-loop', closedLoopTokens);
    const probeTokens = await tokens.mint('sold-out-probe', soldOutProbeConcurrency);
    log(
      `Minted ${buyerTokens + closedLoopTokens + soldOutProbeConcurrency + 1} RS256 tokens in ${((Date.now() - mintStarted) / 1000).toFixed(1)} s (one per buyer and a few spare, before anything is measured)`,
    );
    const holdSeconds = options.holdSeconds ?? rushDefaults.holdSeconds;
    const sweepIntervalMs = options.sweepIntervalMs ?? sweepPeriodMs(options.target ? 'aws' : 'local');
    const event = await createEvent(api, shape, `Rush ${options.strategy}`, options.tickets, undefined, holdSeconds);
    log(`Event ${event.eventId}: ${options.tickets} tickets, ${options.strategy}${event.strategy === 'sharded' ? ` (${event.shards} shards)` : ''}`);

    let raw: RawResult | undefined;
    let apiClosedLoop: ApiClosedLoop | undefined;
    if (stack) {
      // The baselines use the rush event's shard count, so they measure the same write pattern.
      const sameShards = { ...shape, shards: event.shards };
      await warmUp(api, stack.ready, sameShards, options.warmUpSeconds ?? 5, log);
      if (options.rawSeconds > 0) {
        raw = await rawBaseline(api, stack.ready, sameShards, options.rawSeconds);
        log(`Raw DynamoDB Local, no HTTP: ${raw.holdsPerSecond.toFixed(0)} holds/s (${raw.holds} in ${raw.seconds.toFixed(1)} s)`);
        apiClosedLoop = await apiHoldsInClosedLoop(api, sameShards, options.rawSeconds, loopTokens);
        log(
          `The API in a closed loop, same ${rawConcurrency} in flight: ${apiClosedLoop.perSecond.toFixed(0)} holds/s ` +
            `(${apiClosedLoop.count} in ${apiClosedLoop.seconds.toFixed(1)} s)${otherAnswers(apiClosedLoop)}`,
        );
      }
      await postJson(`${url}/_local/reset`, {});
    }

    const phases = rushPhases(options.buyers, options.arrivalRate);
    log(
      `Artillery: ${options.buyers} buyers, peak ${options.arrivalRate}/s (${phases.map((p) => `${p.name} ${p.arrivalCount} in ${p.duration} s`).join(', ')})`,
    );
    const artilleryOutput = join(options.outputDir, 'artillery.json');
    const linesFile = join(options.outputDir, 'buyers-line.jsonl');
    rmSync(linesFile, { force: true });
    const { exitCode: artilleryExitCode, cpuSeconds } = await runArtillery({
      url,
      eventId: event.eventId,
      tokensFile,
      linesFile,
      phases,
      output: artilleryOutput,
      outputDir: options.outputDir,
      log,
      pids: { api: stack?.ready.pid, dynamodb: stack?.ready.dynamoDbPid },
      nice: options.artilleryNice ?? rushDefaults.artilleryNice,
    });
    const load = parseArtilleryOutput(JSON.parse(readFileSync(artilleryOutput, 'utf8')) as ArtilleryOutput);

    let capacity: CapacitySnapshot | undefined;
    let telemetry: Record<string, number> | undefined;
    if (stack) await waitUntilQuiet(url, log);
    // The rush's own numbers, before the probes ask the API anything.
    if (stack) {
      capacity = (await getJson(`${url}/_local/capacity`)) as CapacitySnapshot;
      telemetry = (await getJson(`${url}/_local/telemetry`)) as Record<string, number>;
    }
    // Before the probe, so the line is the buyers' requests only.
    const table = stack
      ? { tableName: stack.ready.tableName, endpoint: stack.ready.dynamoDbEndpoint }
      : options.auditTable
        ? { tableName: options.auditTable, endpoint: options.auditEndpoint }
        : undefined;
    const booked = table ? await readReservations(event.eventId, table) : undefined;
    const figures = booked && bookFigures(booked, options.tickets);
    const held = new Set(booked?.filter((r) => everHeld(r.status)).map((r) => r.reservationId));
    const buyers = existsSync(linesFile)
      ? fcfsFairness(
          buyersLine(readLines(linesFile), (id) => held.has(id)),
          options.tickets,
        )
      : undefined;
    const holdTimeline = options.strategy === 'queued' && booked && capacity ? decidedHoldsTimeline(booked, capacity.since) : undefined;
    if (figures) {
      const decided = figures.decisionLatency;
      log(`The table: ${figures.reservations} reservation(s) of the event${decided ? `, ${decided.count} decided (p50 ${decided.p50} ms after arrival)` : ''}`);
    }
    // The sold-out path at full speed while the event is still sold out: before the last
    // walkaways' holds run out and their tickets come back on sale (nobody is left to buy them).
    // Before the audit, so the audit also proves the probe's refusals changed nothing.
    const probeEventId = stack ? await soldOutEventForProbes(api, event, shape, probeTokens, options.soldOutProbeSeconds ?? 5, log) : event.eventId;
    const probe = await soldOutProbe(url, probeEventId, stack !== undefined, options.soldOutProbeSeconds ?? 5, log, probeTokens);
    const environmentProbes =
      stack && probe.result ? await probeEnvironment(url, probeEventId, options.soldOutProbeSeconds ?? 5, probeTokens[0]!, log) : undefined;
    // The last holds (walkaways who came late, holds the probes made) expire and come back before the audit.
    const settleSeconds = table
      ? settleWaitMs(await readReservations(event.eventId, table), Date.now(), sweepIntervalMs) / 1000
      : holdSeconds + (2 * sweepIntervalMs) / 1000;
    const until = table ? "the last live hold's expiry + two sweeps" : `hold ${holdSeconds} s + two sweeps`;
    log(`Waiting ${settleSeconds.toFixed(0)} s for the last holds to expire and be swept (${until})...`);
    await new Promise((resolveWait) => setTimeout(resolveWait, settleSeconds * 1000));
    const sweeps = stack ? ((await getJson(`${url}/_local/sweeper`)) as SweepStats) : undefined;
    const { audit, skipped } = await auditTable(
      event.eventId,
      stack ? { tableName: stack.ready.tableName, endpoint: stack.ready.dynamoDbEndpoint } : { tableName: options.auditTable, endpoint: options.auditEndpoint },
      sweepIntervalMs,
    );
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
      environmentProbes,
      sweeps,
      fairness: figures || buyers ? { written: figures?.fairness, buyers } : undefined,
      decisionLatency: figures?.decisionLatency,
      cpuSeconds,
      derived: derive(load, audit, capacity, raw, cpuSeconds, {
        arrivalRate: options.arrivalRate,
        apiClosedLoop,
        soldOutProbe: probe.result,
        environmentProbes,
        sweeps,
        holdTimeline,
      }),
    };
    writeFileSync(join(options.outputDir, 'result.json'), `${JSON.stringify({ ...result, timeline: capacity?.timeline }, null, 2)}\n`);
    return result;
  } finally {
    await stack?.stop();
  }
}

/**
 * The rush's event if it is sold out, or else a sold-out stand-in of the same shape, so every
 * strategy's sold-out path is measured (in a rush where tickets came back after the last buyer
 * left, the rush's own event is on sale again).
 */
async function soldOutEventForProbes(
  api: { readonly url: string; readonly organizerToken: string },
  event: { readonly eventId: string; readonly shards: number },
  shape: EventShape,
  tokens: readonly string[],
  seconds: number,
  log: (line: string) => void,
): Promise<string> {
  if (seconds <= 0) return event.eventId;
  const { available } = (await getJson(`${api.url}/events/${event.eventId}`)) as { available: number };
  if (available === 0) return event.eventId;
  try {
    const standIn = await soldOutStandIn(api, { ...shape, shards: event.shards }, tokens);
    log(`The rush's event has ${available} ticket(s) on sale: the probes ask a sold-out event of the same shape (${standIn.eventId})`);
    return standIn.eventId;
  } catch (error) {
    // The probes are measurements, not the rush's verdict: without a stand-in they are skipped.
    log(`No sold-out stand-in for the probes: ${error instanceof Error ? error.message : String(error)}`);
    return event.eventId;
  }
}

/** One Lambda environment answering refusals, then the event page, back to back (see probeOneEnvironment). */
async function probeEnvironment(url: string, eventId: string, seconds: number, token: string, log: (line: string) => void) {
  const refusals = await probeOneEnvironment(url, eventId, seconds, 'refusals', token);
  const eventPage = await probeOneEnvironment(url, eventId, seconds, 'eventPage', token);
  const unitsEach = (probe: EnvironmentProbe) => (probe.readUnitsPerAnswer === undefined ? 'n/a' : probe.readUnitsPerAnswer.toFixed(4));
  log(
    `One environment: ${refusals.perSecond.toFixed(0)} refusals/s, ${unitsEach(refusals)} RCU each on ${refusals.hottestReadKey ?? '-'}; ` +
      `${eventPage.perSecond.toFixed(0)} event pages/s, ${unitsEach(eventPage)} RCU each`,
  );
  return { refusals, eventPage };
}

/** The buyers' line file, one JSON object a line; a line cut short (Artillery stopped mid-write) is skipped. */
function readLines(path: string): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    try {
      if (line.length > 0) records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A partial last line: its buyer's first attempt is lost, nothing else.
    }
  }
  return records;
}

function withoutLog({ log: _log, ...rest }: RushOptions): Omit<RushOptions, 'log'> {
  return rest;
}

function withoutTimeline({ timeline: _timeline, ...rest }: CapacitySnapshot): Omit<CapacitySnapshot, 'timeline'> {
  return rest;
}
