/**
 * How first-come-first-served a sale was: of the places a strict first-come-first-served line
 * would have served, the share that got tickets. Pure.
 *
 * The line is every request (or buyer) in order of arrival. The ideal walks it in that order and
 * gives each place its quantity while the capacity lasts; a place that does not fit in what is
 * left is skipped, and the walk goes on (a later, smaller one may fit). Fairness = the ideal's
 * places that won ÷ the ideal's places. A winner the line would not have served came later than
 * someone the sale turned away (a race a latecomer won), or got tickets that came back (released,
 * expired) and were sold again: the first lowers the figure, the second does not, since the
 * line's ideal is counted against the capacity once.
 */
export interface PlaceInLine {
  /** A reservation id, or a buyer's Idempotency-Key. */
  readonly id: string;
  /** When the request came (ms since the epoch). */
  readonly arrivedAt: number;
  readonly quantity: number;
  /** It held tickets at some point (a hold later confirmed, released or let expire counts). */
  readonly won: boolean;
}

export interface Fairness {
  /** Places in the line, and those that won. */
  readonly line: number;
  readonly winners: number;
  /** The places a strict first-come-first-served line would have served, and of those the ones that won. */
  readonly ideal: number;
  readonly idealWon: number;
  /** idealWon ÷ ideal; undefined when the ideal is empty (no capacity, or nobody in line). */
  readonly share?: number;
  /** Winners outside the ideal: latecomers who won a race, or bought tickets that came back. */
  readonly winnersOutsideIdeal: number;
  /**
   * Every place in the line won: the line only has winners in it (a strategy that writes no
   * record of a refused request), so the share is 1 by construction and says nothing.
   */
  readonly onlyWinnersInLine: boolean;
}

export function fcfsFairness(line: readonly PlaceInLine[], capacity: number): Fairness {
  // Places that came in the same millisecond are in no order: winners first, so a tie is never counted as unfair.
  const ordered = [...line].sort((a, b) => a.arrivedAt - b.arrivedAt || Number(b.won) - Number(a.won) || compare(a.id, b.id));
  let left = capacity;
  let ideal = 0;
  let idealWon = 0;
  for (const place of ordered) {
    if (left <= 0) break;
    if (place.quantity > left) continue;
    left -= place.quantity;
    ideal++;
    if (place.won) idealWon++;
  }
  const winners = line.filter((place) => place.won).length;
  return {
    line: line.length,
    winners,
    ideal,
    idealWon,
    share: ideal > 0 ? idealWon / ideal : undefined,
    winnersOutsideIdeal: winners - idealWon,
    onlyWinnersInLine: line.length > 0 && winners === line.length,
  };
}

/**
 * What the buyers' line file says (load/buyer.ts, BuyerLine): one place per buyer, by their first
 * attempt. A buyer won if they learned they held tickets or, when the table can tell
 * (`heldOnServer`), if the request they were answered held tickets: a queued buyer who stopped
 * waiting for the decision was still served in line.
 */
export function buyersLine(records: readonly Record<string, unknown>[], heldOnServer: (reservationId: string) => boolean = () => false): PlaceInLine[] {
  const arrivals = new Map<string, { arrivedAt: number; quantity: number }>();
  const won = new Set<string>();
  for (const record of records) {
    const key = record.key;
    if (typeof key !== 'string') continue;
    if (typeof record.arrived === 'number' && typeof record.quantity === 'number') arrivals.set(key, { arrivedAt: record.arrived, quantity: record.quantity });
    else if (typeof record.won === 'number') won.add(key);
    else if (typeof record.reservationId === 'string' && heldOnServer(record.reservationId)) won.add(key);
  }
  return [...arrivals].map(([id, { arrivedAt, quantity }]) => ({ id, arrivedAt, quantity, won: won.has(id) }));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
