/**
 * The rush's derived numbers: the selling window and the sold-out path (from the local API's
 * per-second answers), capacity per sold ticket, and the projected ceiling of one event on
 * AWS. Pure: the inputs come from the capacity meter (local/capacity-meter.ts), the audit
 * and the Artillery report.
 */

/** Per partition, whatever the table's mode: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html */
export const awsPartitionLimits = { writeUnitsPerSecond: 1_000, readUnitsPerSecond: 3_000 } as const;

export const outcomes = {
  hold: 'ReserveTickets 201',
  soldOut: 'ReserveTickets 409 sold_out',
} as const;

export interface SecondOfAnswers {
  readonly second: number;
  readonly answers: Readonly<Record<string, number>>;
  readonly writes: Readonly<Record<string, number>>;
}

export interface SellingWindow {
  /** First and last second (since the meter's reset) of the window, inclusive. */
  readonly firstSecond: number;
  readonly lastSecond: number;
  readonly seconds: number;
  /** Holds made in the window. */
  readonly holds: number;
  readonly holdsPerSecond: number;
}

/**
 * The first sale: from the first hold to the sell-out, the first second with a sold-out answer
 * (`soldOutTimeline`, the API's answers; the holds may come from elsewhere, as `queued`'s
 * decisions do). Holds after it are tickets that came back (releases, expired holds) sold again,
 * spread over the rest of the run: counted in, they would stretch the window and understate the
 * rate. A rush that never sells out (the unsafe control) ends at the second by which `share` of
 * all holds were made, so its last few holds do not stretch it either.
 */
export function sellingWindow(
  timeline: readonly SecondOfAnswers[],
  soldOutTimeline: readonly SecondOfAnswers[] = timeline,
  share = 0.99,
): SellingWindow | undefined {
  const withHolds = timeline.filter((s) => (s.answers[outcomes.hold] ?? 0) > 0).sort((a, b) => a.second - b.second);
  const total = withHolds.reduce((sum, s) => sum + (s.answers[outcomes.hold] ?? 0), 0);
  if (total === 0) return undefined;
  const firstSecond = withHolds[0]!.second;
  const soldOutSeconds = soldOutTimeline.filter((s) => s.second >= firstSecond && (s.answers[outcomes.soldOut] ?? 0) > 0).map((s) => s.second);
  const soldOutAt = soldOutSeconds.length > 0 ? Math.min(...soldOutSeconds) : undefined;
  let holds = 0;
  let lastSecond = firstSecond;
  for (const second of withHolds) {
    if (soldOutAt !== undefined && second.second > soldOutAt) break;
    holds += second.answers[outcomes.hold] ?? 0;
    lastSecond = second.second;
    if (soldOutAt === undefined && holds >= Math.ceil(total * share)) break;
  }
  const seconds = lastSecond - firstSecond + 1;
  return { firstSecond, lastSecond, seconds, holds, holdsPerSecond: holds / seconds };
}

/**
 * The API's hold rate when it is busiest: the most holds in any `seconds` consecutive seconds,
 * per second. The selling window's average includes the warm-up, when holds can only come as
 * fast as buyers arrive; this is the number to hold against the raw DynamoDB throughput.
 */
export function peakHoldsPerSecond(timeline: readonly SecondOfAnswers[], seconds = 5): number | undefined {
  const holds = new Map(timeline.map((s) => [s.second, s.answers[outcomes.hold] ?? 0]));
  if (![...holds.values()].some((count) => count > 0)) return undefined;
  const first = Math.min(...holds.keys());
  const last = Math.max(...holds.keys());
  const width = Math.min(seconds, last - first + 1);
  let best = 0;
  for (let start = first; start + width - 1 <= last; start++) {
    let sum = 0;
    for (let second = start; second < start + width; second++) sum += holds.get(second) ?? 0;
    best = Math.max(best, sum);
  }
  return best / width;
}

export interface SoldOutPath {
  /** Sold-out answers after the selling window. */
  readonly answers: number;
  readonly seconds: number;
  readonly answersPerSecond: number;
  /** The busiest single second. */
  readonly peakPerSecond: number;
  /** DynamoDB writes made while producing those answers. */
  readonly writes: number;
  readonly writesPerAnswer: number;
}

/** The sold-out answers after `afterSecond` (the end of the selling window: the sell-out). */
export function soldOutPath(timeline: readonly SecondOfAnswers[], afterSecond: number): SoldOutPath | undefined {
  const after = timeline.filter((s) => s.second > afterSecond && (s.answers[outcomes.soldOut] ?? 0) > 0);
  if (after.length === 0) return undefined;
  const answers = after.reduce((sum, s) => sum + (s.answers[outcomes.soldOut] ?? 0), 0);
  const writes = after.reduce((sum, s) => sum + (s.writes[outcomes.soldOut] ?? 0), 0);
  const lastSecond = Math.max(...after.map((s) => s.second));
  const seconds = lastSecond - afterSecond;
  return {
    answers,
    seconds,
    answersPerSecond: answers / seconds,
    peakPerSecond: Math.max(...after.map((s) => s.answers[outcomes.soldOut] ?? 0)),
    writes,
    writesPerAnswer: writes / answers,
  };
}

export interface CeilingInput {
  /** Write units counted on the hottest partition key over the rush. */
  readonly hottestKeyWriteUnits: number;
  readonly soldTickets: number;
  readonly holds: number;
}

export interface Ceiling {
  readonly hottestKeyWriteUnitsPerTicket: number;
  readonly hottestKeyWriteUnitsPerHold: number;
  /** 1,000 WCU/s ÷ the hottest key's WCU per sold ticket. */
  readonly ticketsPerSecond: number;
  /** 1,000 WCU/s ÷ the hottest key's WCU per hold. */
  readonly holdsPerSecond: number;
}

/**
 * The most one event can sell per second on AWS before its hottest partition key reaches
 * 1,000 WCU/s: a single item can never go faster, however the table scales.
 */
export function projectAwsCeiling({ hottestKeyWriteUnits, soldTickets, holds }: CeilingInput): Ceiling | undefined {
  if (hottestKeyWriteUnits <= 0 || soldTickets <= 0 || holds <= 0) return undefined;
  const perTicket = hottestKeyWriteUnits / soldTickets;
  const perHold = hottestKeyWriteUnits / holds;
  return {
    hottestKeyWriteUnitsPerTicket: perTicket,
    hottestKeyWriteUnitsPerHold: perHold,
    ticketsPerSecond: awsPartitionLimits.writeUnitsPerSecond / perTicket,
    holdsPerSecond: awsPartitionLimits.writeUnitsPerSecond / perHold,
  };
}

/** DynamoDB writes the API made between two capacity snapshots' outcome tables, for any answer or for one outcome's answers. */
export function writesBetween(
  before: Readonly<Record<string, { readonly writes: number }>>,
  after: Readonly<Record<string, { readonly writes: number }>>,
  onlyOutcome?: string,
): number {
  return Object.entries(after)
    .filter(([outcome]) => onlyOutcome === undefined || outcome === onlyOutcome)
    .reduce((sum, [outcome, usage]) => sum + usage.writes - (before[outcome]?.writes ?? 0), 0);
}

export interface PercentileSummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank p50/p99 and the max of some measurements; undefined when there are none. */
export function percentilesOf(values: readonly number[]): PercentileSummary | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank: the smallest value with at least `share` of the values at or below it.
  const at = (share: number) => sorted[Math.max(0, Math.ceil(share * sorted.length) - 1)]!;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

/** `part / whole`, or undefined when there is no whole. */
export function ratio(part: number | undefined, whole: number | undefined): number | undefined {
  if (part === undefined || whole === undefined || !(whole > 0)) return undefined;
  return part / whole;
}
