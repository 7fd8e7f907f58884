import type { ApiResponse, Stampede } from './api';

/**
 * A buyer as a well-behaved client: on 503 (contention or throttling) it retries the same
 * request with the same Idempotency-Key, a bounded number of times. Tests do not sleep the
 * full Retry-After; a few jittered milliseconds keep them fast and still interleaved.
 */
export async function buy(api: Stampede, eventId: string, buyerId: string, quantity: number, idempotencyKey: string, maxTries = 50): Promise<ApiResponse> {
  for (let tries = 1; ; tries++) {
    const response = await api.reserve(eventId, { buyer: buyerId, quantity }, idempotencyKey);
    if (response.status !== 503 || tries >= maxTries) return response;
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
  }
}

export function countBy<T>(values: readonly T[], key: (value: T) => string | number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[String(key(value))] = (counts[String(key(value))] ?? 0) + 1;
  return counts;
}
