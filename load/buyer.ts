/**
 * Artillery processor for load/rush.yml: one virtual user is one buyer in a flash sale.
 *
 * A buyer has their own bearer token (minted before the rush, one per line of the file the
 * `tokensFile` variable names: load/tokens.ts) and Idempotency-Key, asks for 1 ticket (most) or 2-4, and
 * retries the same request with the same key on 429/503, honouring Retry-After, a bounded
 * number of times. A winner then thinks briefly and confirms (most), releases (some) or walks
 * away (the hold is left to expire). On a `queued` event a request may be answered 202: it is
 * in the event's line, and the buyer follows its Location (GET /reservations/{id}), backing off
 * from 250 ms to 4 s, until it is decided (HELD or REJECTED), for a bounded time. The hooks record custom
 * metrics (`stampede.*`) so the report separates the latency of wins from the latency of
 * sold-out answers. With the `linesFile` variable, each buyer also appends when they first
 * asked and whether they got tickets (the buyers' line, load/fairness.ts).
 *
 * Hook signatures: https://www.artillery.io/docs/reference/engines/http#function-signatures
 * Artillery bundles this file with esbuild; it must not import project code.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';

export type Fate = 'confirm' | 'release' | 'walkAway';

/** How buyers behave; shares are cumulative thresholds over one random draw. */
export const buyerMix = {
  /** P(quantity = 1, 2, 3, 4): most want one ticket. */
  quantityShares: [0.8, 0.12, 0.05, 0.03] as const,
  /** What a winner does with the hold. */
  fateShares: { confirm: 0.8, release: 0.1, walkAway: 0.1 } as const,
  /** Seconds a winner thinks before confirming or releasing. */
  thinkSeconds: { min: 0.5, max: 2 } as const,
  /** Attempts of one reservation request, the first included, when answered 429/503. */
  // A flash-sale buyer keeps trying: with the Retry-After of a shedding server (10 s) this
  // spans over a minute and a half, longer than a sale's overloaded selling window.
  maxAttempts: 10,
  /** Cap on one Retry-After wait, so a rush always ends. */
  maxRetryAfterSeconds: 10,
  /**
   * A queued request (202): the first look at its decision after this long, then twice as long
   * each time up to the cap, spread ±25% so buyers do not poll in step. A fixed short interval
   * made the polls the load: 2,000 buyers waiting in line, each looking every 200 ms, offered
   * the local API 10,000 requests/s, and half of them were shed with 503 (measured in December 2026).
   */
  decisionPollMs: { first: 250, max: 4_000 } as const,
  /**
   * How long a buyer keeps looking for the decision of a queued request before walking away
   * (counted `stampede.undecided`; the request is still decided, or rejected `not_decided` by the sweeper).
   */
  maxDecisionWaitSeconds: 120,
};

export function pickQuantity(random: () => number = Math.random): number {
  let draw = random();
  for (const [index, share] of buyerMix.quantityShares.entries()) {
    if (draw < share) return index + 1;
    draw -= share;
  }
  return buyerMix.quantityShares.length;
}

export function pickFate(random: () => number = Math.random): Fate {
  const draw = random();
  const { confirm, release } = buyerMix.fateShares;
  if (draw < confirm) return 'confirm';
  if (draw < confirm + release) return 'release';
  return 'walkAway';
}

/** 429 and 503 mean "not now": the same request, same key, may succeed later. */
export function isRetryable(status: number): boolean {
  return status === 429 || status === 503;
}

/**
 * How long to wait before retrying: never sooner than Retry-After (seconds, capped; an HTTP
 * date is not sent by Stampede and is treated as absent; 1 s when missing), and spread at
 * random over one more Retry-After. Buyers shed in the same second otherwise all come back in
 * the same second: in an overloaded rush with 250 ms of jitter the retries arrived in waves
 * 10 s apart, and each wave timed out buyers the server would have answered.
 */
export function retryDelayMs(retryAfter: string | string[] | undefined, random: () => number = Math.random): number {
  const header = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  const seconds = header !== undefined && /^\d+$/.test(header.trim()) ? Number(header) : 1;
  const asked = Math.min(seconds, buyerMix.maxRetryAfterSeconds) * 1000;
  return asked + Math.floor(random() * asked);
}

/** The wait before look number `look` (1-based) at a queued request's decision: doubling from decisionPollMs.first to .max, ±25%. */
export function decisionPollDelayMs(look: number, random: () => number = Math.random): number {
  const { first, max } = buyerMix.decisionPollMs;
  const base = Math.min(max, first * 2 ** Math.max(0, look - 1));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** What a reservation's status means to a buyer: tickets (now or earlier), a refusal, or still waiting in line. */
export type Decision = 'won' | 'rejected' | 'queued';

export function decisionOf(status: unknown): Decision | undefined {
  if (status === 'QUEUED') return 'queued';
  if (status === 'REJECTED') return 'rejected';
  // A hold that was since confirmed, released or let expire did hold tickets.
  if (status === 'HELD' || status === 'CONFIRMED' || status === 'RELEASED' || status === 'EXPIRED') return 'won';
  return undefined;
}

// What Artillery calls (rush.yml's processor functions): one buyer's visit.

interface BuyerVars {
  eventId: string;
  tokensFile: string;
  /** Where each buyer appends their place in the buyers' line (see BuyerLine); unset = nowhere. */
  linesFile?: string;
  /** `Bearer <token>`: who this buyer is. */
  authorization: string;
  idempotencyKey: string;
  quantity: number;
  fate: Fate;
  attempts: number;
  /** Attempts of the confirm or release. */
  followUpAttempts: number;
  /** Set when the last answer asks for a retry. */
  retryInMs?: number;
  /** When the first reservation attempt was sent (ms since the epoch). */
  firstAttemptAt?: number;
  /** Set once the buyer holds tickets. */
  reservationId?: string;
  /** A queued request: where its decision is read (the 202's Location), until it is decided. */
  decisionPath?: string;
  /** The queued request was found by a replay (200), not answered 202: a win then counts as a replay. */
  queuedByReplay?: boolean;
  /** When the buyer stops looking for the decision (ms since the epoch), and the looks so far. */
  decisionDeadline?: number;
  looks?: number;
  /** Set when the decision is still pending: the wait before the next look. */
  pollInMs?: number;
}

interface Context {
  vars: BuyerVars & Record<string, unknown>;
}

interface Events {
  emit(type: 'counter' | 'histogram', name: string, value: number): void;
}

interface RequestParams {
  json?: unknown;
  headers?: Record<string, string>;
}

interface Response {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

type Done = (error?: Error) => void;

/**
 * One line of the buyers' line file (JSON): `arrived` when the first reservation attempt is
 * sent, the `reservationId` when an answer names it (so the table can tell whether a request
 * the buyer stopped waiting for held tickets), `won` when the buyer learns they hold tickets.
 * `key` is the buyer's Idempotency-Key.
 */
export type BuyerLine =
  | { readonly key: string; readonly arrived: number; readonly quantity: number }
  | { readonly key: string; readonly reservationId: string }
  | { readonly key: string; readonly won: number };

function appendLine(vars: BuyerVars, line: BuyerLine): void {
  // One small synchronous append per buyer (two per winner): microseconds, and nothing lost if Artillery is stopped.
  if (vars.linesFile) appendFileSync(vars.linesFile, `${JSON.stringify(line)}\n`);
}

/** The rush's tokens, read once; each new buyer takes the next. */
let tokens: string[] | undefined;
let nextToken = 0;

function tokenFor(tokensFile: string): string {
  tokens ??= readFileSync(tokensFile, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0);
  const token = tokens[nextToken++];
  if (!token) throw new Error(`More buyers than tokens in ${tokensFile} (${tokens.length})`);
  return token;
}

/** beforeScenario: who this buyer is and what they will do. */
export function newBuyer(context: Context, events: Events, done: Done): void {
  context.vars.authorization = `Bearer ${tokenFor(context.vars.tokensFile)}`;
  context.vars.idempotencyKey = randomUUID();
  context.vars.quantity = pickQuantity();
  context.vars.fate = pickFate();
  context.vars.attempts = 0;
  context.vars.followUpAttempts = 0;
  // Counters must exist for `ensure` to evaluate them: a missing metric fails its check.
  events.emit('counter', 'stampede.final_5xx', 0);
  done();
}

/** What the buyer has waited so far: from its first attempt (setReservationRequest), so retries after 503s and decision polls count. */
function waitedMs(vars: Context['vars']): number | undefined {
  return vars.firstAttemptAt === undefined ? undefined : Date.now() - vars.firstAttemptAt;
}

/** beforeRequest of the reservation: the same body and key on every attempt. */
export function setReservationRequest(params: RequestParams, context: Context, _events: Events, done: Done): void {
  const { quantity, idempotencyKey, authorization } = context.vars;
  params.json = { quantity };
  params.headers = { ...params.headers, authorization, 'idempotency-key': idempotencyKey };
  context.vars.attempts++;
  if (context.vars.attempts === 1) {
    context.vars.firstAttemptAt = Date.now();
    appendLine(context.vars, { key: idempotencyKey, arrived: context.vars.firstAttemptAt, quantity });
  }
  done();
}

/**
 * afterResponse of the reservation: classify the answer, time it, decide on a retry. 201 and
 * 200 (a replay) carry the reservation: held tickets are a win; a replay may also find the
 * request still QUEUED or REJECTED. 202 is a `queued` request in line: the buyer then follows
 * its Location (awaitsDecision).
 */
export function recordReservation(_params: RequestParams, response: Response, context: Context, events: Events, done: Done): void {
  const { vars } = context;
  const status = response.statusCode;
  const elapsed = waitedMs(vars);
  vars.retryInMs = undefined;
  const body = status === 200 || status === 201 || status === 202 ? (parse(response.body) as { reservationId?: unknown; status?: unknown }) : {};
  const decision = status === 202 ? 'queued' : decisionOf(body.status);
  if (typeof body.reservationId === 'string') appendLine(vars, { key: vars.idempotencyKey, reservationId: body.reservationId });
  if (decision === 'queued') {
    if (status === 202) events.emit('counter', 'stampede.queued', 1);
    const location = header(response.headers.location);
    vars.decisionPath = location ?? `/reservations/${String(body.reservationId)}`;
    vars.queuedByReplay = status === 200;
    vars.decisionDeadline = Date.now() + buyerMix.maxDecisionWaitSeconds * 1000;
    vars.looks = 0;
    vars.pollInMs = decisionPollDelayMs(1);
  } else if (decision === 'rejected') {
    recordRejection(parse(response.body).rejection, events);
  } else if (status === 201 || status === 200) {
    vars.reservationId = String(body.reservationId);
    recordWin(vars, status === 201 ? 'stampede.won' : 'stampede.replayed', events);
    if (elapsed !== undefined) events.emit('histogram', 'stampede.win_ms', elapsed);
  } else if (status === 409) {
    const code = (parse(response.body) as { error?: unknown }).error;
    events.emit('counter', code === 'sold_out' ? 'stampede.sold_out' : `stampede.refused.${String(code)}`, 1);
    if (code === 'sold_out' && elapsed !== undefined) events.emit('histogram', 'stampede.sold_out_ms', elapsed);
  } else if (isRetryable(status) && vars.attempts < buyerMix.maxAttempts) {
    vars.retryInMs = retryDelayMs(response.headers['retry-after']);
    events.emit('counter', 'stampede.retried', 1);
  } else {
    recordFailure(status, events);
  }
  done();
}

/** ifTrue of the decision poll: a queued request not decided yet. */
export function awaitsDecision(vars: Context['vars']): boolean {
  return vars.decisionPath !== undefined && vars.pollInMs !== undefined;
}

/** Loop body before each look at the decision: wait as told (a poll interval, or a Retry-After). */
export async function pauseBeforePoll(context: Context): Promise<void> {
  const delay = context.vars.pollInMs;
  if (delay !== undefined) await new Promise((resolve) => setTimeout(resolve, delay));
}

/** The poll loop's `whileTrue`: look again while the request is still in line. */
export function decisionPending(context: Context, next: (again: boolean) => void): void {
  next(context.vars.pollInMs !== undefined);
}

/**
 * afterResponse of GET /reservations/{id} for a queued request: HELD is a win (timed from the
 * first reservation attempt: what the buyer waited), REJECTED a refusal by its reason, QUEUED
 * another look until the buyer's patience (maxDecisionWaitSeconds) runs out.
 */
export function recordDecision(_params: RequestParams, response: Response, context: Context, events: Events, done: Done): void {
  const { vars } = context;
  const status = response.statusCode;
  vars.pollInMs = undefined;
  const body = status === 200 ? (parse(response.body) as { reservationId?: unknown; status?: unknown; rejection?: unknown }) : {};
  const decision = status === 200 ? decisionOf(body.status) : undefined;
  const patient = Date.now() < (vars.decisionDeadline ?? 0);
  if (decision === 'won') {
    vars.reservationId = String(body.reservationId);
    recordWin(vars, vars.queuedByReplay ? 'stampede.replayed' : 'stampede.won', events);
    const waited = waitedMs(vars);
    if (waited !== undefined) events.emit('histogram', 'stampede.win_ms', waited);
  } else if (decision === 'rejected') {
    recordRejection(body.rejection, events);
  } else if (decision === 'queued' || isRetryable(status)) {
    if (patient) {
      vars.looks = (vars.looks ?? 0) + 1;
      vars.pollInMs = decision === 'queued' ? decisionPollDelayMs(vars.looks + 1) : retryDelayMs(response.headers['retry-after']);
      if (decision !== 'queued') events.emit('counter', 'stampede.retried', 1);
    } else {
      events.emit('counter', 'stampede.undecided', 1);
    }
  } else {
    recordFailure(status, events);
  }
  if (vars.pollInMs === undefined) vars.decisionPath = undefined;
  done();
}

function recordWin(vars: BuyerVars, counter: 'stampede.won' | 'stampede.replayed', events: Events): void {
  events.emit('counter', counter, 1);
  events.emit('counter', 'stampede.tickets_won', vars.quantity);
  appendLine(vars, { key: vars.idempotencyKey, won: Date.now() });
}

/** A queued request turned down: sold out like any other sold-out answer; another reason by name. */
function recordRejection(reason: unknown, events: Events): void {
  events.emit('counter', reason === 'sold_out' ? 'stampede.sold_out' : `stampede.refused.${String(reason)}`, 1);
}

/** Loop body after the request: wait as told before the next attempt. */
export async function pauseBeforeRetry(context: Context): Promise<void> {
  const delay = context.vars.retryInMs;
  if (delay !== undefined) await new Promise((resolve) => setTimeout(resolve, delay));
}

/** Both loops' `whileTrue`: go round again only when the last answer asked for a retry. */
export function retryIfAsked(context: Context, next: (again: boolean) => void): void {
  next(context.vars.retryInMs !== undefined);
}

/** A winner thinks before paying or giving the tickets back; others move on. */
export async function thinkIfWon(context: Context, events: Events): Promise<void> {
  if (!context.vars.reservationId) return;
  if (context.vars.fate === 'walkAway') {
    events.emit('counter', 'stampede.walked_away', 1);
    return;
  }
  const { min, max } = buyerMix.thinkSeconds;
  await new Promise((resolve) => setTimeout(resolve, (min + Math.random() * (max - min)) * 1000));
}

/** ifTrue of the confirm request. */
export function confirms(vars: Context['vars']): boolean {
  return vars.reservationId !== undefined && vars.fate === 'confirm';
}

/** ifTrue of the release request. */
export function releases(vars: Context['vars']): boolean {
  return vars.reservationId !== undefined && vars.fate === 'release';
}

/** afterResponse of confirm and release: count it, or decide on a retry as for the reservation. */
export function recordFollowUp(_params: RequestParams, response: Response, context: Context, events: Events, done: Done): void {
  const { vars } = context;
  const status = response.statusCode;
  vars.retryInMs = undefined;
  vars.followUpAttempts++;
  if (status === 200) {
    events.emit('counter', vars.fate === 'confirm' ? 'stampede.confirmed' : 'stampede.released', 1);
  } else if (isRetryable(status) && vars.followUpAttempts < buyerMix.maxAttempts) {
    vars.retryInMs = retryDelayMs(response.headers['retry-after']);
    events.emit('counter', 'stampede.retried', 1);
  } else {
    recordFailure(status, events);
  }
  done();
}

function recordFailure(status: number, events: Events): void {
  // Any 5xx that a buyer is left with (after the bounded retries) fails the run through `ensure`.
  events.emit('counter', status >= 500 ? 'stampede.final_5xx' : 'stampede.unexpected', 1);
  if (isRetryable(status)) events.emit('counter', 'stampede.gave_up', 1);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parse(body: unknown): Record<string, unknown> {
  if (typeof body !== 'string') return (body ?? {}) as Record<string, unknown>;
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return {};
  }
}
