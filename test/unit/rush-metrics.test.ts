import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rushDefaults } from '../../load/cli-options';
import { answerKeys, summarizeLoop } from '../../load/closed-loop';
import { rushPhases } from '../../load/phases';
import {
  outcomes,
  peakHoldsPerSecond,
  percentilesOf,
  projectAwsCeiling,
  ratio,
  type SecondOfAnswers,
  sellingWindow,
  soldOutPath,
  writesBetween,
} from '../../load/rush-metrics';
import { buyerTokenCount } from '../../load/tokens';

const second = (n: number, holds: number, soldOut: number, soldOutWrites = 0): SecondOfAnswers => ({
  second: n,
  answers: { [outcomes.hold]: holds, [outcomes.soldOut]: soldOut },
  writes: soldOutWrites > 0 ? { [outcomes.soldOut]: soldOutWrites } : {},
});

describe('rush phases', () => {
  it('sends exactly the requested buyers: warm-up, spike at the peak rate, tail', () => {
    expect(rushPhases(100_000, 1_000)).toEqual([
      { name: 'warm-up', duration: 10, arrivalCount: 1_000 },
      { name: 'spike', duration: 80, arrivalCount: 80_000 },
      { name: 'tail', duration: 38, arrivalCount: 19_000 },
    ]);
  });

  it('are the phases load/rush.yml runs by default (the 100,000-buyer rush at the default arrival rate)', () => {
    const yaml = readFileSync(resolve(__dirname, '../../load/rush.yml'), 'utf8');
    const defaults = [...yaml.matchAll(/- name: (\S+)\s+duration: (\d+)\s+arrivalCount: (\d+)/g)].map(([, name, duration, count]) => ({
      name,
      duration: Number(duration),
      arrivalCount: Number(count),
    }));
    expect(defaults).toEqual(rushPhases(100_000, rushDefaults.arrivalRate));
  });

  it('keeps the warm-up to a small share of a small rush', () => {
    const phases = rushPhases(2_000, 1_000);
    expect(phases.reduce((sum, phase) => sum + phase.arrivalCount, 0)).toBe(2_000);
    expect(phases[0]).toEqual({ name: 'warm-up', duration: 1, arrivalCount: 100 });
    expect(phases.every((phase) => phase.duration >= 1)).toBe(true);
  });

  it('still makes a rush of one buyer', () => {
    expect(rushPhases(1, 1_000)).toEqual([{ name: 'spike', duration: 1, arrivalCount: 1 }]);
  });

  it('has a token for every buyer Artillery starts, a few past the phases included', () => {
    // A 100,000-buyer rush on a saturated machine started 100,012 buyers.
    expect(buyerTokenCount(100_000)).toBe(101_000);
    expect(buyerTokenCount(2_000)).toBe(2_064);
  });

  it('refuses nonsense sizes', () => {
    expect(() => rushPhases(0, 100)).toThrow(/buyers/);
    expect(() => rushPhases(10, 0)).toThrow(/arrival rate/);
  });
});

describe('the selling window', () => {
  // 1,000 tickets sold in seconds 1-20, then refusals, and tickets that came back (releases, expiries) sold again at 35, 50 and 75.
  const firstSale = Array.from({ length: 20 }, (_, i) => second(i + 1, 50, i === 19 ? 3 : 0));
  const afterIt = [second(21, 0, 400), second(35, 5, 300), second(37, 0, 200, 1), second(50, 5, 100), second(75, 5, 50)];

  it('runs from the first hold to the sell-out: resales of returned tickets later do not stretch it', () => {
    expect(sellingWindow([second(0, 0, 0), ...firstSale, ...afterIt])).toEqual({
      firstSecond: 1,
      lastSecond: 20,
      seconds: 20,
      holds: 1_000,
      holdsPerSecond: 50,
    });
    // The 99% rule alone would have ended it at second 50 (1,005 of 1,015 holds): 20 holds/s.
  });

  it('takes the sell-out from the API’s answers when the holds come from elsewhere (queued’s decisions)', () => {
    const decided = [...firstSale.map((s) => second(s.second, 50, 0)), second(40, 15, 0)];
    const answers = [second(22, 0, 10), second(23, 0, 500)];
    expect(sellingWindow(decided, answers)).toMatchObject({ firstSecond: 1, lastSecond: 20, holds: 1_000 });
  });

  it('ends where 99% of the holds were made when nothing was ever sold out (the unsafe control)', () => {
    const timeline = [second(0, 0, 0), second(1, 100, 0), second(2, 300, 0), second(3, 595, 0), second(4, 0, 0), second(9, 5, 0)];
    expect(sellingWindow(timeline)).toEqual({ firstSecond: 1, lastSecond: 3, seconds: 3, holds: 995, holdsPerSecond: 995 / 3 });
  });

  it('leads to a sold-out path that starts at the sell-out, so a write for a refusal in the resale tail counts', () => {
    const timeline = [...firstSale, ...afterIt];
    const path = soldOutPath(timeline, sellingWindow(timeline)!.lastSecond)!;
    expect(path).toMatchObject({ answers: 1_050, writes: 1 });
  });

  it('is undefined when nobody got a hold', () => {
    expect(sellingWindow([second(0, 0, 10)])).toBeUndefined();
  });
});

describe("the API's peak hold rate", () => {
  it('is the busiest run of seconds, not the average that includes the slow warm-up', () => {
    const timeline = [second(0, 50, 0), second(1, 50, 0), second(2, 400, 0), second(3, 500, 0), second(5, 300, 0), second(6, 10, 900)];
    // Seconds 1-5 (4 had no answers): 50 + 400 + 500 + 0 + 300 = 1,250 in 5 s.
    expect(peakHoldsPerSecond(timeline)).toBe(250);
    expect(peakHoldsPerSecond(timeline, 2)).toBe(450);
  });

  it('averages over the whole window when the rush was shorter', () => {
    expect(peakHoldsPerSecond([second(3, 30, 0), second(4, 10, 5)])).toBe(20);
    expect(peakHoldsPerSecond([second(3, 0, 5)])).toBeUndefined();
  });
});

describe('the sold-out path', () => {
  it('counts the sold-out answers and their writes after the selling window only', () => {
    const timeline = [second(1, 100, 20, 20), second(2, 50, 30, 4), second(3, 0, 900, 1), second(4, 0, 1_100), second(5, 0, 400)];
    const path = soldOutPath(timeline, 2)!;
    expect(path).toMatchObject({ answers: 2_400, seconds: 3, peakPerSecond: 1_100, writes: 1 });
    expect(path.answersPerSecond).toBe(800);
    expect(path.writesPerAnswer).toBeCloseTo(1 / 2_400);
  });

  it('is undefined when nothing was refused after the sell-out', () => {
    expect(soldOutPath([second(1, 10, 0)], 1)).toBeUndefined();
  });
});

describe('a closed loop told by the answer it was meant to get', () => {
  it('rates the expected answers over the loop and keeps the others apart', () => {
    const loop = { seconds: 4, concurrency: 32, answers: { '409 sold_out': 6_000, '503 throughput_exceeded': 2 } };
    expect(summarizeLoop(loop, answerKeys.soldOut)).toEqual({
      seconds: 4,
      concurrency: 32,
      count: 6_000,
      perSecond: 1_500,
      otherAnswers: { '503 throughput_exceeded': 2 },
    });
    expect(summarizeLoop(loop, answerKeys.hold)).toMatchObject({ count: 0, perSecond: 0 });
  });

  it('counts a queued request as a hold once it was followed to a HELD decision, not when it was admitted', () => {
    const loop = { seconds: 10, concurrency: 64, answers: { '201': 300, '202 HELD': 500, '202 QUEUED': 4, '202 REJECTED sold_out': 2 } };
    expect(summarizeLoop(loop, [answerKeys.hold, answerKeys.queuedHold])).toEqual({
      seconds: 10,
      concurrency: 64,
      count: 800,
      perSecond: 80,
      otherAnswers: { '202 QUEUED': 4, '202 REJECTED sold_out': 2 },
    });
  });
});

describe('percentiles of measurements', () => {
  it('are nearest-rank p50 and p99, and the max', () => {
    const values = Array.from({ length: 200 }, (_, index) => 200 - index);
    // 100 of the 200 values are ≤ 100, 198 are ≤ 198.
    expect(percentilesOf(values)).toEqual({ count: 200, p50: 100, p99: 198, max: 200 });
    expect(percentilesOf([3, 1, 2])).toEqual({ count: 3, p50: 2, p99: 3, max: 3 });
    expect(percentilesOf([7])).toEqual({ count: 1, p50: 7, p99: 7, max: 7 });
    expect(percentilesOf([])).toBeUndefined();
  });
});

describe('writes between two capacity snapshots', () => {
  it('counts the writes of every answer made in between, including answers seen for the first time', () => {
    const before = { 'ReserveTickets 409 sold_out': { writes: 7 }, 'ReserveTickets 201': { writes: 600 } };
    const after = { 'ReserveTickets 409 sold_out': { writes: 7 }, 'ReserveTickets 201': { writes: 604 }, 'ReserveTickets 503': { writes: 2 } };
    expect(writesBetween(before, after)).toBe(6);
    expect(writesBetween(after, after)).toBe(0);
  });

  it("counts one outcome's writes alone when asked, so a probe's sale is not charged to its refusals", () => {
    const before = { 'ReserveTickets 409 sold_out': { writes: 0 } };
    const after = { 'ReserveTickets 409 sold_out': { writes: 0 }, 'ReserveTickets 201': { writes: 3 } };
    expect(writesBetween(before, after, 'ReserveTickets 409 sold_out')).toBe(0);
    expect(writesBetween(before, after, 'ReserveTickets 201')).toBe(3);
    expect(writesBetween(before, after)).toBe(3);
  });
});

describe('the projected AWS ceiling of one event', () => {
  it('gives 16 shards 16 times the holds per second of one transactional item', () => {
    // transactional: every hold writes the one inventory item in a transaction (2 WCU).
    const one = projectAwsCeiling({ hottestKeyWriteUnits: 2 * 10_000, soldTickets: 10_000, holds: 10_000 })!;
    expect(one.holdsPerSecond).toBe(500);
    // sharded: the hottest of 16 shards takes 1/16 of the holds.
    const sharded = projectAwsCeiling({ hottestKeyWriteUnits: (2 * 10_000) / 16, soldTickets: 10_000, holds: 10_000 })!;
    expect(sharded.holdsPerSecond).toBe(8_000);
    expect(sharded.holdsPerSecond / one.holdsPerSecond).toBe(16);
  });

  it('is per sold ticket: holds of several tickets raise the ticket ceiling', () => {
    const ceiling = projectAwsCeiling({ hottestKeyWriteUnits: 1_000, soldTickets: 1_300, holds: 1_000 })!;
    expect(ceiling.hottestKeyWriteUnitsPerTicket).toBeCloseTo(1_000 / 1_300);
    expect(ceiling.ticketsPerSecond).toBeCloseTo(1_300);
    expect(ceiling.holdsPerSecond).toBe(1_000);
  });

  it('has nothing to project without writes or sales', () => {
    expect(projectAwsCeiling({ hottestKeyWriteUnits: 0, soldTickets: 10, holds: 10 })).toBeUndefined();
    expect(projectAwsCeiling({ hottestKeyWriteUnits: 10, soldTickets: 0, holds: 0 })).toBeUndefined();
  });

  it('divides only by something', () => {
    expect(ratio(400, 500)).toBe(0.8);
    expect(ratio(1, 0)).toBeUndefined();
    expect(ratio(undefined, 5)).toBeUndefined();
  });
});
