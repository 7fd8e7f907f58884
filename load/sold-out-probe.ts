/**
 * After the rush: how fast can the API say "sold out"? During the rush, sold-out answers come
 * only as fast as buyers arrive (the arrival rate), so their rate says little about the path
 * itself. The probe asks the sold-out event for one ticket as fast as `concurrency` clients
 * in a closed loop can, for a few seconds, with fresh buyers and no Idempotency-Key, and
 * counts the answers; `npm run rush` reads the DynamoDB writes made meanwhile from the
 * capacity meter and audits afterwards, so the probe also proves refusals change nothing.
 */
export interface SoldOutProbeOptions {
  readonly url: string;
  readonly eventId: string;
  readonly seconds: number;
  readonly concurrency: number;
}

export interface SoldOutProbeResult {
  readonly seconds: number;
  readonly concurrency: number;
  /** `409 sold_out` answers. */
  readonly soldOut: number;
  readonly answersPerSecond: number;
  /** Every other answer, by status (and error code): anything here means the probe met something else. */
  readonly otherAnswers: Record<string, number>;
}

export async function probeSoldOut({ url, eventId, seconds, concurrency }: SoldOutProbeOptions): Promise<SoldOutProbeResult> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let soldOut = 0;
  const otherAnswers: Record<string, number> = {};
  let buyer = 0;
  const client = async () => {
    while (performance.now() < deadline) {
      const outcome = await reserveOne(url, eventId, `sold-out-probe-${buyer++}`);
      if (outcome === '409 sold_out') soldOut++;
      else otherAnswers[outcome] = (otherAnswers[outcome] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = (performance.now() - started) / 1000;
  return { seconds: elapsed, concurrency, soldOut, answersPerSecond: soldOut / elapsed, otherAnswers };
}

async function reserveOne(url: string, eventId: string, buyerId: string): Promise<string> {
  try {
    const response = await fetch(`${url}/events/${eventId}/reservations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ buyerId, quantity: 1 }),
    });
    const body = (await response.json().catch(() => ({}))) as { error?: unknown };
    return typeof body.error === 'string' ? `${response.status} ${body.error}` : String(response.status);
  } catch (error) {
    return `no answer (${(error as Error).message})`;
  }
}
