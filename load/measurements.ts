import { type AuditReport, auditEvent, processLimits } from '../functions/audit/audit-event';
import { loadConfig } from '../functions/config';
import { createDocumentClient } from '../functions/data/dynamodb-client';
import type { StrategyName } from '../functions/domain/model';
import { limits } from '../functions/http/schemas';
import type { CapacitySnapshot } from '../local/capacity-meter';
import { answerKeys, type ClosedLoopResult, type ClosedLoopSummary, readEventInClosedLoop, reserveInClosedLoop, summarizeLoop } from './closed-loop';
import { getJson, postJson } from './http-json';
import { measureRaw, type RawResult } from './raw-baseline';
import { outcomes, writesBetween } from './rush-metrics';
import type { StackReady } from './stack-process';
import { otherAnswers } from './summary';

/**
 * What a rush measures around the buyers: the raw DynamoDB baseline and the API beside it in a
 * closed loop (before), the sold-out probe and the audit (after).
 */
export interface EventShape {
  readonly strategy: StrategyName;
  /** `sharded` only; unset = the API's default. */
  readonly shards?: number;
}

/** The API and the organizer token events are created with. */
export interface Api {
  readonly url: string;
  readonly organizerToken: string;
}

export interface CreatedEvent {
  readonly eventId: string;
  readonly strategy: StrategyName;
  readonly shards: number;
}

type Log = (line: string) => void;

/** Requests in flight for the raw baseline and the API's closed loop: the API's STAMPEDE_MAX_SOCKETS. */
export const rawConcurrency = 64;
/** Below the API's request concurrency limit (64): enough to keep it busy without queueing there. */
export const soldOutProbeConcurrency = 32;
/** The closed loop's buyers each take as many tickets as the API lets one buyer have before moving to the next token. */
const closedLoopMaxPerBuyer = limits.maxPerBuyer.max;
/** Tokens for the API's closed loop: 4 per client, 25,600 holds, far more than 10 s of any machine here. */
export const closedLoopTokens = rawConcurrency * 4;
/**
 * How long to wait for the API to finish requests whose buyers gave up: the audit must see a quiet
 * event. `optimistic` at 100,000 buyers kept selling to its queue for ~10 minutes after Artillery.
 */
const quietTimeoutMs = 1_200_000;
/**
 * The raw baseline and the API's closed loop each run on an event they cannot sell out in the
 * time given, so both are timed over the same whole duration and their ratio holds for any
 * `--tickets` (on an event the loop sold out part-way, holds/s divided by the whole loop
 * understated the API: a quick bench once reported API/raw 0.35 where a long one had 0.83).
 */
const unsellableCapacity = limits.capacity.max;

/**
 * The events measured beside the rush (warm-up, raw baseline, closed loop, sold-out probe) share
 * its table and sweep index: their holds last the longest a hold may, so none expires during a
 * run and the sweeper's figures (returned tickets, sweep lag, index write units) are the rush's.
 */
const sideEventHoldSeconds = limits.holdSeconds.max;

export async function createEvent(
  { url, organizerToken }: Api,
  shape: EventShape,
  name: string,
  capacity: number,
  maxPerBuyer?: number,
  holdSeconds?: number,
): Promise<CreatedEvent> {
  const body = {
    name,
    capacity,
    strategy: shape.strategy,
    ...(shape.shards !== undefined && { shards: shape.shards }),
    ...(maxPerBuyer && { maxPerBuyer }),
    ...(holdSeconds && { holdSeconds }),
  };
  return (await postJson(`${url}/events`, body, { authorization: `Bearer ${organizerToken}` })) as CreatedEvent;
}

/**
 * A sold-out event of the rush's shape, for the probes when the rush's own event is not sold out
 * (tickets that came back after the last buyer left, or a strategy that never sold out): each probe
 * client holds an equal share of it, one request after another (no contention to retry), and the
 * event page reads 0 before it is returned. Holds last the default hold time, past the probes.
 */
export async function soldOutStandIn(api: Api, shape: EventShape, tokens: readonly string[]): Promise<CreatedEvent> {
  const perClient = Math.ceil((shape.shards ?? 1) / tokens.length);
  const event = await createEvent(api, shape, 'Sold-out probe', perClient * tokens.length, undefined, sideEventHoldSeconds);
  for (const [client, token] of tokens.entries()) {
    const headers = { authorization: `Bearer ${token}`, 'idempotency-key': `sold-out-stand-in-${client}` };
    await withRetries(() => postJson(`${api.url}/events/${event.eventId}/reservations`, { quantity: perClient }, headers));
  }
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await pause(250)) {
    if (((await getJson(`${api.url}/events/${event.eventId}`)) as { available: number }).available === 0) return event;
  }
  throw new Error(`The probes' stand-in event ${event.eventId} did not sell out`);
}

/** A replay of the same Idempotency-Key is safe: a 503 (contention) or a lost answer is asked again. */
async function withRetries<T>(call: () => Promise<T>, tries = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= tries) throw error;
      await pause(200 * attempt);
    }
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Raw holds on a throwaway event, so the raw number and the rush both meet a warm JVM. */
export async function warmUp(api: Api, ready: StackReady, shape: EventShape, seconds: number, log: Log): Promise<void> {
  if (seconds <= 0) return;
  const event = await createEvent(api, shape, 'Warm-up', unsellableCapacity, undefined, sideEventHoldSeconds);
  const warm = await measureRaw(event, { endpoint: ready.dynamoDbEndpoint, tableName: ready.tableName, seconds });
  log(`Warm-up: ${warm.holds} raw holds in ${warm.seconds.toFixed(1)} s (${warm.holdsPerSecond.toFixed(0)}/s)`);
}

/** The same writes per hold straight to DynamoDB Local, with the rush event's strategy and shards. */
export async function rawBaseline(api: Api, ready: StackReady, shape: EventShape, seconds: number): Promise<RawResult> {
  const event = await createEvent(api, shape, 'Raw baseline', unsellableCapacity, undefined, sideEventHoldSeconds);
  return measureRaw(event, { endpoint: ready.dynamoDbEndpoint, tableName: ready.tableName, seconds, concurrency: rawConcurrency });
}

/** The API's closed loop, and the DynamoDB calls it made meanwhile by operation (handlers, the queued consumer, the sweeper). */
export type ApiClosedLoop = ClosedLoopSummary & { readonly dynamoDbCalls?: Readonly<Record<string, number>> };

/**
 * Holds through the API on an event like the raw baseline's, as many in flight. The capacity
 * meter is paused meanwhile (the raw baseline has none, and it is not part of the API); it still
 * tallies the calls, so the API's DynamoDB calls per hold can stand beside the raw baseline's.
 */
export async function apiHoldsInClosedLoop(api: Api, shape: EventShape, seconds: number, tokens: readonly string[]): Promise<ApiClosedLoop> {
  const { url } = api;
  const event = await createEvent(api, shape, 'API closed loop', unsellableCapacity, closedLoopMaxPerBuyer, sideEventHoldSeconds);
  await postJson(`${url}/_local/meter/pause`, {});
  let loop: ClosedLoopResult;
  let dynamoDbCalls: Record<string, number> | undefined;
  try {
    loop = await reserveInClosedLoop({ url, eventId: event.eventId, seconds, concurrency: rawConcurrency, tokens });
  } finally {
    ({ callsWhilePaused: dynamoDbCalls } = (await postJson(`${url}/_local/meter/resume`, {})) as { callsWhilePaused?: Record<string, number> });
  }
  // A `queued` event's hold is a 201, or a 202 the client followed until it was decided HELD (closed-loop.ts).
  return { ...summarizeLoop(loop, [answerKeys.hold, answerKeys.queuedHold]), dynamoDbCalls };
}

export async function waitUntilQuiet(url: string, log: Log): Promise<CapacitySnapshot> {
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

export interface SoldOutProbe {
  readonly result?: SoldOutProbeResult;
  readonly skipped?: string;
}

/**
 * `writes`: made while answering sold out, the path the target holds to 0. `otherWrites`: made for
 * any other answer meanwhile, e.g. a hold on a ticket a walkaway's expiry put back on sale during
 * the probe (a sale, not a refusal).
 */
export type SoldOutProbeResult = ClosedLoopSummary & { readonly writes?: number; readonly otherWrites?: number };

/** The sold-out path at full speed: a closed loop of refusals on the sold-out event. */
export async function soldOutProbe(
  url: string,
  eventId: string,
  metered: boolean,
  seconds: number,
  log: Log,
  tokens: readonly string[],
): Promise<SoldOutProbe> {
  if (seconds <= 0) return { skipped: 'turned off' };
  const { available } = (await getJson(`${url}/events/${eventId}`)) as { available: number };
  // Tickets released after the last buyer came are back on sale: the probe would buy them.
  if (available > 0) return { skipped: `the event was not sold out (${available} available)` };
  const before = metered ? ((await getJson(`${url}/_local/capacity`)) as CapacitySnapshot) : undefined;
  const loop = await reserveInClosedLoop({ url, eventId, seconds, concurrency: soldOutProbeConcurrency, tokens });
  const after = before ? ((await getJson(`${url}/_local/capacity`)) as CapacitySnapshot) : undefined;
  const writes = before && after ? writesBetween(before.outcomes, after.outcomes, outcomes.soldOut) : undefined;
  const otherWrites = before && after && writes !== undefined ? writesBetween(before.outcomes, after.outcomes) - writes : undefined;
  const probe = summarizeLoop(loop, answerKeys.soldOut);
  log(
    `Sold-out probe: ${probe.count} sold-out answers in ${probe.seconds.toFixed(1)} s (${probe.perSecond.toFixed(0)}/s, ` +
      `${probe.concurrency} clients)${otherAnswers(probe)}` +
      `${writes === undefined ? '' : `, ${writes} DynamoDB writes for them${otherWrites ? `, ${otherWrites} for the other answers` : ''}`}`,
  );
  return { result: { ...probe, writes, otherWrites } };
}

/**
 * One Lambda environment answers one request at a time: a single client in a closed loop is its
 * model. What it costs per answer on the busiest partition key, against what one partition serves
 * (3,000 RCU/s), is the projected ceiling of one event on AWS, however many environments answer.
 */
export interface EnvironmentProbe extends ClosedLoopSummary {
  /** Read units per answer on the partition key the loop read most, and that key. */
  readonly readUnitsPerAnswer?: number;
  readonly hottestReadKey?: string;
}

export async function probeOneEnvironment(
  url: string,
  eventId: string,
  seconds: number,
  kind: 'refusals' | 'eventPage',
  token: string,
): Promise<EnvironmentProbe> {
  // The event's own keys: over a whole rush, other events' keys read far more than a probe does.
  const capacity = `${url}/_local/capacity?readKeysOf=${encodeURIComponent(`EVENT#${eventId}`)}`;
  const before = (await getJson(capacity)) as CapacitySnapshot;
  const loop =
    kind === 'refusals'
      ? summarizeLoop(await reserveInClosedLoop({ url, eventId, seconds, concurrency: 1, tokens: [token] }), answerKeys.soldOut)
      : summarizeLoop(await readEventInClosedLoop({ url, eventId, seconds, concurrency: 1 }), answerKeys.page);
  const after = (await getJson(capacity)) as CapacitySnapshot;
  const hottest = hottestReadKeyBetween(before, after);
  return { ...loop, readUnitsPerAnswer: hottest && loop.count > 0 ? hottest.readUnits / loop.count : undefined, hottestReadKey: hottest?.pk };
}

function hottestReadKeyBetween(before: CapacitySnapshot, after: CapacitySnapshot): { pk: string; readUnits: number } | undefined {
  const earlier = new Map(before.hottestReadKeys.map((key) => [key.pk, key.readUnits]));
  return after.hottestReadKeys
    .map((key) => ({ pk: key.pk, readUnits: key.readUnits - (earlier.get(key.pk) ?? 0) }))
    .sort((a, b) => b.readUnits - a.readUnits)[0];
}

/**
 * The audit of the event, on the table the API used (local) or the one given (deployed), with the
 * limits of an API configured by `environment` on top of this process's (as the API's was).
 */
export async function auditTable(
  eventId: string,
  table: { readonly tableName?: string; readonly endpoint?: string },
  sweepIntervalMs: number,
  environment: Record<string, string> = {},
): Promise<{ audit?: AuditReport; skipped?: string }> {
  if (!table.tableName) return { skipped: 'no table to audit: pass --table (and --endpoint if not AWS) with --target' };
  const config = loadConfig({ ...process.env, ...environment, TABLE_NAME: table.tableName, DYNAMODB_ENDPOINT: table.endpoint });
  const db = createDocumentClient(config);
  try {
    return { audit: await auditEvent(db, table.tableName, eventId, Date.now(), { sweepIntervalMs, ...processLimits(config) }) };
  } finally {
    db.destroy();
  }
}
