import { describe, expect, it } from 'vitest';
import { buyersLine, fcfsFairness, type PlaceInLine } from '../../load/fairness';
import { type BookedReservation, bookFigures, decidedHoldsTimeline, everHeld, settleWaitMs } from '../../load/reservation-book';
import { outcomes } from '../../load/rush-metrics';

const place = (id: string, arrivedAt: number, quantity: number, won: boolean): PlaceInLine => ({ id, arrivedAt, quantity, won });

describe('fairness against a strict first-come-first-served line', () => {
  it('is 1 when the earliest buyers that fit got the tickets', () => {
    const line = [place('a', 1, 2, true), place('b', 2, 1, true), place('c', 3, 1, false)];
    expect(fcfsFairness(line, 3)).toMatchObject({ line: 3, winners: 2, ideal: 2, idealWon: 2, share: 1, winnersOutsideIdeal: 0, onlyWinnersInLine: false });
  });

  it('counts a latecomer who won a race against an earlier buyer', () => {
    // 3 tickets. b and c came before d, but d's request raced past c's: the line would have served a, b, c.
    const line = [place('a', 10, 1, true), place('b', 11, 1, true), place('c', 12, 1, false), place('d', 13, 1, true)];
    const fairness = fcfsFairness(line, 3);
    expect(fairness).toMatchObject({ ideal: 3, idealWon: 2, winnersOutsideIdeal: 1 });
    expect(fairness.share).toBeCloseTo(2 / 3);
  });

  it('skips a place that does not fit in what is left and goes on to a smaller one', () => {
    // 4 tickets: a takes 3; b wants 2 (does not fit), c wants 1 (fits). b losing is fair.
    const line = [place('b', 2, 2, false), place('a', 1, 3, true), place('c', 3, 1, true), place('d', 4, 1, false)];
    expect(fcfsFairness(line, 4)).toMatchObject({ ideal: 2, idealWon: 2, share: 1 });
  });

  it('does not count resold tickets against the line: winners of returned tickets come after it', () => {
    // 2 tickets: a and b held; b released, and e bought the returned ticket later.
    const line = [place('a', 1, 1, true), place('b', 2, 1, true), place('c', 3, 1, false), place('e', 9, 1, true)];
    expect(fcfsFairness(line, 2)).toMatchObject({ ideal: 2, idealWon: 2, share: 1, winnersOutsideIdeal: 1 });
  });

  it('puts the winners of a tie first: requests of the same millisecond are in no order', () => {
    const line = [place('z', 5, 1, true), place('a', 5, 1, false)];
    expect(fcfsFairness(line, 1).share).toBe(1);
  });

  it('says when the line holds only winners, so the share is 1 by construction', () => {
    expect(fcfsFairness([place('a', 1, 1, true), place('b', 2, 1, true)], 1)).toMatchObject({ share: 1, onlyWinnersInLine: true });
    expect(fcfsFairness([], 10)).toMatchObject({ line: 0, share: undefined, onlyWinnersInLine: false });
  });

  it("reads the buyers' line file: one place per buyer, won if they ever learned they held tickets", () => {
    const records = [
      { key: 'k1', arrived: 100, quantity: 2 },
      { key: 'k2', arrived: 101, quantity: 1 },
      { key: 'k1', won: 180 },
      { key: 'k3', won: 200 },
      { nonsense: true },
    ];
    expect(buyersLine(records)).toEqual([
      { id: 'k1', arrivedAt: 100, quantity: 2, won: true },
      { id: 'k2', arrivedAt: 101, quantity: 1, won: false },
    ]);
  });

  it('counts a buyer who stopped waiting as served when the table says their request held tickets', () => {
    const records = [
      { key: 'k1', arrived: 100, quantity: 1 },
      { key: 'k1', reservationId: 'res_1' },
      { key: 'k2', arrived: 101, quantity: 1 },
      { key: 'k2', reservationId: 'res_2' },
    ];
    expect(buyersLine(records, (id) => id === 'res_2').map((place) => place.won)).toEqual([false, true]);
  });
});

describe("the table's figures", () => {
  const reservation = (id: string, createdAt: number, status: BookedReservation['status'], decidedAt?: number, rejection?: string): BookedReservation => ({
    reservationId: id,
    quantity: 1,
    status,
    createdAt,
    ...(decidedAt !== undefined && { decidedAt }),
    ...(rejection && { rejection }),
  });

  it('count every status that once held tickets as a win', () => {
    expect(['HELD', 'CONFIRMED', 'RELEASED', 'EXPIRED'].every((status) => everHeld(status as BookedReservation['status']))).toBe(true);
    expect(['QUEUED', 'REJECTED', 'PENDING'].some((status) => everHeld(status as BookedReservation['status']))).toBe(false);
  });

  it('give the written line, and the decision latency of the decided requests', () => {
    const book = [
      reservation('r1', 1_000, 'CONFIRMED', 1_040),
      reservation('r2', 1_010, 'REJECTED', 1_060, 'sold_out'),
      reservation('r3', 1_020, 'RELEASED', 1_300),
      reservation('r4', 1_030, 'REJECTED', 301_030, 'not_decided'),
    ];
    const figures = bookFigures(book, 2);
    // r2 came second and lost while r3 (third) won: the line would have served r1 and r2.
    expect(figures.fairness).toMatchObject({ ideal: 2, idealWon: 1, share: 0.5 });
    // Latencies 40, 50, 280 and 300,000 ms: the p50 is the 2nd, the p99 the 4th.
    expect(figures.decisionLatency).toEqual({ count: 4, p50: 50, p99: 300_000, max: 300_000, held: 2, rejected: { sold_out: 1, not_decided: 1 } });
  });

  it('have no decision latency when nothing was decided (every strategy but queued)', () => {
    expect(bookFigures([reservation('r1', 1, 'HELD')], 1).decisionLatency).toBeUndefined();
  });

  it('wait before the audit until the last live hold has run out and two sweeps have passed', () => {
    const now = 100_000;
    const hold = (status: BookedReservation['status'], expiresAt: number) => ({ ...reservation(`r${expiresAt}`, 0, status), expiresAt });
    // A probe's hold made just now outlasts the buyers' holds; confirmed and expired holds do not count.
    const book = [hold('HELD', 130_000), hold('HELD', 160_000), hold('CONFIRMED', 190_000), hold('EXPIRED', 95_000)];
    expect(settleWaitMs(book, now, 5_000)).toBe(60_000 + 10_000);
    // Nothing live (or a hold already past its expiry, the sweeper behind): two sweeps from now.
    expect(settleWaitMs([hold('CONFIRMED', 190_000)], now, 5_000)).toBe(10_000);
    expect(settleWaitMs([hold('HELD', 90_000)], now, 5_000)).toBe(10_000);
  });

  it('place queued holds on the capacity meter seconds by their decision', () => {
    const since = 10_000;
    const book = [
      reservation('r1', 9_000, 'HELD', 10_500),
      reservation('r2', 9_000, 'CONFIRMED', 10_999),
      reservation('r3', 9_000, 'REJECTED', 12_000, 'sold_out'),
      reservation('r4', 9_000, 'EXPIRED', 13_100),
    ];
    expect(decidedHoldsTimeline(book, since)).toEqual([
      { second: 0, answers: { [outcomes.hold]: 2 }, writes: {} },
      { second: 3, answers: { [outcomes.hold]: 1 }, writes: {} },
    ]);
  });
});
