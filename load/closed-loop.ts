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
  /** Answers by status and error code, e.g. `201`, `409 sold_out`, `no answer (fetch failed)`. */
  readonly answers: Record<string, number>;
}

export const answerKeys = { hold: '201', soldOut: '409 sold_out', page: '200' } as const;

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

export function summarizeLoop(result: ClosedLoopResult, expected: string): ClosedLoopSummary {
  const count = result.answers[expected] ?? 0;
  return {
    seconds: result.seconds,
    concurrency: result.concurrency,
    count,
    perSecond: count / result.seconds,
    otherAnswers: Object.fromEntries(Object.entries(result.answers).filter(([answer]) => answer !== expected)),
  };
}

async function reserveOne(url: string, eventId: string, token: string): Promise<string> {
  try {
    const response = await fetch(`${url}/events/${eventId}/reservations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ quantity: 1 }),
    });
    const body = (await response.json().catch(() => ({}))) as { error?: unknown };
    return typeof body.error === 'string' ? `${response.status} ${body.error}` : String(response.status);
  } catch (error) {
    return `no answer (${(error as Error).message})`;
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
