import { createHash, randomBytes } from 'node:crypto';

/**
 * Ids are `evt_`/`res_` plus 22 base64url characters (128 bits; functions/http/schemas.ts
 * checks the shape of ids in paths). A reservation made with an Idempotency-Key gets an id
 * derived from the key, so every replay of that key addresses the same item and DynamoDB's
 * `attribute_not_exists` makes the second write a no-op.
 */

export function newEventId(): string {
  return `evt_${randomBytes(16).toString('base64url')}`;
}

export function newReservationId(): string {
  return `res_${randomBytes(16).toString('base64url')}`;
}

export function reservationIdForKey(idempotencyKey: string): string {
  return `res_${digest('stampede-idempotency-key', idempotencyKey).slice(0, 22)}`;
}

/** Identifies what a reserve request asked for, to tell a replay from a reused key. */
export function requestFingerprint(eventId: string, buyerId: string, quantity: number): string {
  return digest('stampede-reserve-request', JSON.stringify([eventId, buyerId, quantity]));
}

function digest(purpose: string, value: string): string {
  return createHash('sha256').update(purpose).update('\0').update(value).digest('base64url');
}
