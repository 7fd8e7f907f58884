/**
 * Artillery processor for load/rush.yml: one virtual user is one buyer in a flash sale.
 *
 * A buyer has their own bearer token (minted before the rush, one per line of the file the
 * `tokensFile` variable names: load/tokens.ts) and Idempotency-Key, asks for 1 ticket (most) or 2-4, and
 * retries the same request with the same key on 429/503, honouring Retry-After, a bounded
 * number of times. A winner then thinks briefly and confirms (most), releases (some) or walks
 * away (the hold is left to expire). The hooks record custom metrics (`stampede.*`) so the
 * report separates the latency of wins from the latency of sold-out answers.
 *
 * Hook signatures: https://www.artillery.io/docs/reference/engines/http#function-signatures
 * Artillery bundles this file with esbuild; it must not import project code.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

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

// ---- Artillery hooks -------------------------------------------------------------------

interface BuyerVars {
  eventId: string;
  tokensFile: string;
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
  reservationId?: string;
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
  timings?: { phases?: { firstByte?: number } };
}

type Done = (error?: Error) => void;

/** The rush's tokens, read once; each new buyer takes the next. */
let tokens: string[] | undefined;
let nextToken = 0;

function tokenFor(tokensFile: string): string {
  tokens ??= readFileSync(tokensFile, 'utf8').split('\n').filter((line) => line.length > 0);
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

/** beforeRequest of the reservation: the same body and key on every attempt. */
export function setReservationRequest(params: RequestParams, context: Context, _events: Events, done: Done): void {
  const { quantity, idempotencyKey, authorization } = context.vars;
  params.json = { quantity };
  params.headers = { ...params.headers, authorization, 'idempotency-key': idempotencyKey };
  context.vars.attempts++;
  done();
}

/** afterResponse of the reservation: classify the answer, time it, decide on a retry. */
export function recordReservation(_params: RequestParams, response: Response, context: Context, events: Events, done: Done): void {
  const { vars } = context;
  const status = response.statusCode;
  const elapsed = response.timings?.phases?.firstByte;
  vars.retryInMs = undefined;
  if (status === 201 || status === 200) {
    vars.reservationId = String((parse(response.body) as { reservationId?: unknown }).reservationId);
    events.emit('counter', status === 201 ? 'stampede.won' : 'stampede.replayed', 1);
    events.emit('counter', 'stampede.tickets_won', vars.quantity);
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

function parse(body: unknown): Record<string, unknown> {
  if (typeof body !== 'string') return (body ?? {}) as Record<string, unknown>;
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return {};
  }
}
