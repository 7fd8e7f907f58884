/**
 * Reservations in a closed loop: `concurrency` clients each ask an event for one ticket, without
 * an Idempotency-Key, and ask again as soon as they are answered, for `seconds`. Each client is
 * a buyer with its own token; one that reaches the event's per-buyer limit moves on to the next
 * unused token of the pool (the loops' events allow 100 tickets per buyer). No arrival rate and no Artillery: what comes out is the API's own speed on this
 * machine. `npm run rush` uses it twice:
 *
 * - before the rush, on an event of its own, for the API's hold rate beside the raw DynamoDB
 *   baseline (the same 64 requests in flight, the same machine, nothing else running);
 * - after the rush, on the sold-out event, for the sold-out path at full speed. During the rush
 *   sold-out answers come only as fast as buyers arrive, which says little about the path.
 *
 * On a `queued` event a request the API answers 202 is in line, not held: the client follows its
 * Location until it is decided, and only then asks again. A hold is then the request and its
 * decision, as in the raw baseline's `queued` pattern (raw-baseline.ts), so API/raw compares like
 * with like; counting the 202 itself as a hold would time the admission only, and let 64 clients
 * pile requests into the line faster than it is decided.
 */
export interface ClosedLoopOptions {
  readonly url: string;
  readonly eventId: string;
  readonly seconds: number;
  readonly concurrency: number;
  /** Buyers' bearer tokens, at least `concurrency` of them: see load/tokens.ts. */
  readonly tokens: readonly string[];
}

export interface ClosedLoopResult {
  readonly seconds: number;
  readonly concurrency: number;
  /**
   * Answers by status and error code, e.g. `201`, `409 sold_out`, `no answer (fetch failed)`; a
   * queued request by its decision: `202 HELD`, `202 REJECTED sold_out`, `202 QUEUED` (not decided in time).
   */
  readonly answers: Record<string, number>;
}

export const answerKeys = { hold: '201', queuedHold: '202 HELD', soldOut: '409 sold_out', page: '200' } as const;

/** A queued request's decision: looked at this often, for at most this long. */
const decisionPoll = { intervalMs: 100, maxMs: 30_000 } as const;

export async function reserveInClosedLoop({ url, eventId, seconds, concurrency, tokens }: ClosedLoopOptions): Promise<ClosedLoopResult> {
  if (tokens.length < concurrency) throw new Error(`A closed loop of ${concurrency} clients needs at least as many tokens, got ${tokens.length}`);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const answers: Record<string, number> = {};
  let nextToken = concurrency;
  const client = async (index: number) => {
    let token = tokens[index]!;
    while (performance.now() < deadline) {
      const answer = await reserveOne(url, eventId, token);
      answers[answer] = (answers[answer] ?? 0) + 1;
      if (answer === '409 buyer_limit_exceeded' && nextToken < tokens.length) token = tokens[nextToken++]!;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => client(index)));
  return { seconds: (performance.now() - started) / 1000, concurrency, answers };
}

/** A loop's result told by the answer it was meant to get. */
export interface ClosedLoopSummary {
  readonly seconds: number;
  readonly concurrency: number;
  /** Answers of the expected kind, and per second. */
  readonly count: number;
  readonly perSecond: number;
  /** Every other answer: anything here means the loop met something else. */
  readonly otherAnswers: Record<string, number>;
}

/** `expected`: the answer (or answers, e.g. a hold answered 201 or decided HELD after a 202) the loop counts. */
export function summarizeLoop(result: ClosedLoopResult, expected: string | readonly string[]): ClosedLoopSummary {
  const counted = new Set<string>(typeof expected === 'string' ? [expected] : expected);
  const count = [...counted].reduce((sum, answer) => sum + (result.answers[answer] ?? 0), 0);
  return {
    seconds: result.seconds,
    concurrency: result.concurrency,
    count,
    perSecond: count / result.seconds,
    otherAnswers: Object.fromEntries(Object.entries(result.answers).filter(([answer]) => !counted.has(answer))),
  };
}

async function reserveOne(url: string, eventId: string, token: string): Promise<string> {
  try {
    const response = await fetch(`${url}/events/${eventId}/reservations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ quantity: 1 }),
    });
    const body = (await response.json().catch(() => ({}))) as { error?: unknown; reservationId?: unknown };
    if (response.status === 202)
      return `202 ${await decisionOf(url, response.headers.get('location') ?? `/reservations/${String(body.reservationId)}`, token)}`;
    return typeof body.error === 'string' ? `${response.status} ${body.error}` : String(response.status);
  } catch (error) {
    return `no answer (${(error as Error).message})`;
  }
}

/** Look at a queued request until it is decided: `HELD`, `REJECTED <reason>`, `QUEUED` (still in line at the bound), or another answer. */
async function decisionOf(url: string, location: string, token: string): Promise<string> {
  const giveUpAt = performance.now() + decisionPoll.maxMs;
  for (;;) {
    await new Promise((resolveWait) => setTimeout(resolveWait, decisionPoll.intervalMs));
    const response = await fetch(new URL(location, url), { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json().catch(() => ({}))) as { status?: unknown; rejection?: unknown; error?: unknown };
    const stillQueued = response.status === 200 && body.status === 'QUEUED';
    if (!stillQueued && response.status !== 503 && response.status !== 429) {
      if (response.status !== 200) return `then ${response.status}${typeof body.error === 'string' ? ` ${body.error}` : ''}`;
      return body.status === 'REJECTED' ? `REJECTED ${String(body.rejection)}` : String(body.status);
    }
    if (performance.now() >= giveUpAt) return stillQueued ? 'QUEUED' : `then ${response.status}`;
  }
}

/** The public event page in a closed loop: `concurrency` clients reading it back to back. */
export async function readEventInClosedLoop({ url, eventId, seconds, concurrency }: Omit<ClosedLoopOptions, 'tokens'>): Promise<ClosedLoopResult> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const answers: Record<string, number> = {};
  const client = async () => {
    while (performance.now() < deadline) {
      let answer: string;
      try {
        const response = await fetch(`${url}/events/${eventId}`);
        await response.arrayBuffer();
        answer = String(response.status);
      } catch (error) {
        answer = `no answer (${(error as Error).message})`;
      }
      answers[answer] = (answers[answer] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return { seconds: (performance.now() - started) / 1000, concurrency, answers };
}
