import { scanEventItems } from '../functions/audit/audit-event';
import { loadConfig } from '../functions/config';
import { createDocumentClient } from '../functions/data/dynamodb-client';
import { reservationItemType } from '../functions/data/items/reservation-item';
import type { StoredStatus } from '../functions/domain/model';
import { type Fairness, fcfsFairness } from './fairness';
import { outcomes, type PercentileSummary, percentilesOf, type SecondOfAnswers } from './rush-metrics';

/**
 * What the table says about a rush's requests after it: every reservation item of the event
 * (each carries when the API got the request that wrote it, `createdAt`; a `queued` one also
 * when it was decided, `decidedAt`). From it: the fairness of the written line (fairness.ts),
 * the `queued` decision latency, and when each queued hold was decided. The scan is the audit's
 * (functions/audit/audit-event.ts), reservations only, with only the attributes used here.
 */
export interface BookedReservation {
  readonly reservationId: string;
  readonly quantity: number;
  readonly status: StoredStatus;
  readonly createdAt: number;
  /** When a hold runs out (holds only). */
  readonly expiresAt?: number;
  readonly decidedAt?: number;
  readonly rejection?: string;
}

export interface DecisionLatency extends PercentileSummary {
  /** Decided requests by outcome: held, and rejected by reason (`sold_out`, `not_decided`). */
  readonly held: number;
  readonly rejected: Readonly<Record<string, number>>;
}

export interface BookFigures {
  readonly reservations: number;
  /** The line of written requests, by createdAt. */
  readonly fairness: Fairness;
  /** Only when some request was decided (the `queued` strategy). */
  readonly decisionLatency?: DecisionLatency;
}

/** Statuses of a reservation that held tickets at some point. */
export function everHeld(status: StoredStatus): boolean {
  return status === 'HELD' || status === 'CONFIRMED' || status === 'RELEASED' || status === 'EXPIRED';
}

/** Pure: the figures of one event's reservations. */
export function bookFigures(reservations: readonly BookedReservation[], capacity: number): BookFigures {
  const line = reservations.map((r) => ({ id: r.reservationId, arrivedAt: r.createdAt, quantity: r.quantity, won: everHeld(r.status) }));
  const decided = reservations.filter((r) => r.decidedAt !== undefined);
  const rejected: Record<string, number> = {};
  for (const r of decided) if (r.status === 'REJECTED') rejected[r.rejection ?? 'unknown'] = (rejected[r.rejection ?? 'unknown'] ?? 0) + 1;
  const latency = percentilesOf(decided.map((r) => r.decidedAt! - r.createdAt));
  return {
    reservations: reservations.length,
    fairness: fcfsFairness(line, capacity),
    decisionLatency: latency && { ...latency, held: decided.filter((r) => everHeld(r.status)).length, rejected },
  };
}

/**
 * Holds per second of their decision, seconds counted from `since` (the capacity meter's reset,
 * so they line up with its timeline): for `queued`, a hold is made by the consumer, not by an
 * API answer, and most holds are never a 201.
 */
export function decidedHoldsTimeline(reservations: readonly BookedReservation[], since: number): SecondOfAnswers[] {
  const perSecond = new Map<number, number>();
  for (const r of reservations) {
    if (r.decidedAt === undefined || !everHeld(r.status) || r.decidedAt < since) continue;
    const second = Math.floor((r.decidedAt - since) / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  return [...perSecond].sort(([a], [b]) => a - b).map(([second, holds]) => ({ second, answers: { [outcomes.hold]: holds }, writes: {} }));
}

/**
 * Pure: how long to wait, from `now`, before the audit, so that every hold still live has run out
 * and two sweeps have passed since (the audit's own allowance). Read from the table, not assumed
 * from the hold length: when tickets come back during the sold-out probes, the probes' clients buy
 * them, and a fixed "hold + two sweeps" after the last buyer left a 30,000-buyer rush with 28
 * tickets held by holds that had only just run out.
 */
export function settleWaitMs(reservations: readonly BookedReservation[], now: number, sweepIntervalMs: number): number {
  const lastExpiry = reservations.reduce((last, r) => (r.status === 'HELD' && r.expiresAt !== undefined ? Math.max(last, r.expiresAt) : last), now);
  return lastExpiry - now + 2 * sweepIntervalMs;
}

/** Every reservation item of the event, with a parallel Scan (an offline read after the rush, as the audit's). */
export async function readReservations(
  eventId: string,
  table: { readonly tableName: string; readonly endpoint?: string },
  segments = 4,
): Promise<BookedReservation[]> {
  const config = loadConfig({ ...process.env, TABLE_NAME: table.tableName, DYNAMODB_ENDPOINT: table.endpoint });
  const db = createDocumentClient(config);
  try {
    // The audit's parallel scan of the event's items (reservations and tallies); the book keeps the reservations.
    const items = (await scanEventItems(db, table.tableName, eventId, segments)).filter((item) => item.type === reservationItemType);
    return items.map((item) => ({
      reservationId: String(item.reservationId),
      quantity: Number(item.quantity),
      status: item.status as StoredStatus,
      createdAt: Number(item.createdAt),
      ...(item.expiresAt !== undefined && { expiresAt: Number(item.expiresAt) }),
      ...(item.decidedAt !== undefined && { decidedAt: Number(item.decidedAt) }),
      ...(item.rejection !== undefined && { rejection: String(item.rejection) }),
    }));
  } finally {
    db.destroy();
  }
}
