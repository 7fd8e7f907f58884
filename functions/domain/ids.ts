import { createHash, randomBytes } from 'node:crypto';

/**
 * Ids are `evt_`/`res_` plus 22 base64url characters (128 bits; functions/http/schemas.ts
 * checks the shape of ids in paths). A reservation made with an Idempotency-Key gets an id
 * derived from the buyer and the key, so every replay of that key addresses the same item and
 * DynamoDB's `attribute_not_exists` makes the second write a no-op.
 */

export function newEventId(): string {
  return `evt_${randomBytes(16).toString('base64url')}`;
}

export function newReservationId(): string {
  return `res_${randomBytes(16).toString('base64url')}`;
}

/**
 * A key is scoped to its buyer: the same key from two buyers makes two independent requests,
 * so one buyer's key can neither collide with nor probe another's.
 */
export function reservationIdForKey(buyerId: string, idempotencyKey: string): string {
  return `res_${digest('stampede-idempotency-key', JSON.stringify([buyerId, idempotencyKey])).slice(0, 22)}`;
}

/** Identifies what a reserve request asked for, to tell a replay from a reused key. */
export function requestFingerprint(eventId: string, buyerId: string, quantity: number): string {
  return digest('stampede-reserve-request', JSON.stringify([eventId, buyerId, quantity]));
}

function digest(purpose: string, value: string): string {
  return createHash('sha256').update(purpose).update('\0').update(value).digest('base64url');
}
