import type { AuditReport } from '../functions/audit/audit-event';
import type { CapacitySnapshot } from '../local/capacity-meter';
import type { LoadReport } from './artillery-report';
import type { ClosedLoopSummary } from './closed-loop';
import type { ApiClosedLoop, EnvironmentProbe } from './measurements';
import type { RawResult } from './raw-baseline';
import {
  awsPartitionLimits,
  type Ceiling,
  outcomes,
  type PercentileSummary,
  peakHoldsPerSecond,
  percentilesOf,
  projectAwsCeiling,
  ratio,
  type SecondOfAnswers,
  type SellingWindow,
  type SoldOutPath,
  sellingWindow,
  soldOutPath,
} from './rush-metrics';

/** The processes whose CPU time a local rush reads from /proc. */
export type Process = 'artillery' | 'api' | 'dynamodb';

/** What the local sweeper did during a rush (GET /_local/sweeper; functions/observability/sweep-metrics.ts). */
export interface SweepStats {
  readonly sweeps: number;
  readonly expired: number;
  readonly ticketsReturned: number;
  readonly repaired: number;
  readonly lagsMs: readonly number[];
  /** Per sweep, how long it took (absent in results from before it was kept). */
  readonly tookMs?: readonly number[];
}

/** One read path's projected ceiling per event on AWS: what one partition serves ÷ what an answer costs it. */
export interface ReadCeiling {
  readonly readUnitsPerAnswer: number;
  readonly answersPerSecond: number;
}

export interface Derived {
  readonly selling?: SellingWindow;
  readonly soldOutPath?: SoldOutPath;
  /** Tickets sold (audit) per second of the selling window. */
  readonly ticketsPerSecond?: number;
  readonly holdsPerSecond?: number;
  /** The probe's sold-out answers/s ÷ the rush's holds/s while selling: the target "≥ 3× the reserve rate". */
  readonly soldOutProbeTimesHoldRate?: number;
  /** The probe's sold-out answers/s ÷ the API's closed-loop holds/s: both paths at full speed, the stricter ratio. */
  readonly soldOutProbeTimesApiHoldRate?: number;
  /** The busiest 5 s of holds (see peakHoldsPerSecond): the API's hold capacity when it is saturated. */
  readonly peakHoldsPerSecond?: number;
  /** The API's closed-loop holds/s ÷ raw holds/s: the cost of HTTP and handlers, nothing else running. */
  readonly apiToRaw?: number;
  /**
   * DynamoDB calls per hold, raw baseline and API closed loop (failed calls and retries included):
   * DynamoDB Local's CPU is the bound on this machine, so a ratio of calls shows up in API/raw.
   * The API's leave the sweeper's index queries out (the only Query calls): they come every few
   * seconds whatever the load, not per hold.
   */
  readonly dynamoDbCallsPerHold?: { readonly raw?: number; readonly api?: number };
  /** peakHoldsPerSecond ÷ raw holds/s: the same under the rush, with Artillery on the same cores. */
  readonly rushPeakToRaw?: number;
  /** The peak hold rate is near the arrival rate: the API was not saturated, so rushPeakToRaw understates it. */
  readonly arrivalLimited?: boolean;
  readonly cpuSecondsPerRequest: Partial<Record<Process, number>>;
  /** Whole run: DynamoDB writes made while answering sold-out. */
  readonly writesPerSoldOutAnswer?: number;
  readonly readsPerSoldOutAnswer?: number;
  /** Counted with AWS's rules; `measured*` from DynamoDB Local's ConsumedCapacity (successful calls only). */
  readonly writeUnitsPerTicket?: number;
  readonly readUnitsPerTicket?: number;
  readonly measuredWriteUnitsPerTicket?: number;
  readonly measuredReadUnitsPerTicket?: number;
  /** The sweep index's write units per sold ticket, on top of writeUnitsPerTicket (the table's). */
  readonly indexWriteUnitsPerTicket?: number;
  readonly hottestKey?: { readonly pk: string; readonly writeUnits: number; readonly shareOfWrites: number };
  /** Counting every write to the hottest key, failed ones too (AWS bills a failed conditional write). */
  readonly ceiling?: Ceiling;
  /**
   * Counting only the writes that succeeded: the bound if failed attempts (shard misses at the
   * end of each shard, cancelled transactions) cost nothing. The truth is between the two.
   */
  readonly ceilingSucceededOnly?: Ceiling;
  /**
   * Sold-out answers per second one event can give on AWS: a partition's 3,000 RCU/s ÷ what one
   * refusal costs the busiest shard in one Lambda environment (one client, reads shared for the
   * staleness bound). Likewise the public event page.
   */
  readonly refusalCeiling?: ReadCeiling;
  readonly eventPageCeiling?: ReadCeiling;
  /**
   * The sweep index's busiest partition key: its write units per hold (every index write of the
   * rush, over the holds made), and the holds/s at which it would reach 1,000 WCU/s. The index's
   * keys serve the whole table: that is for all events on sale together.
   */
  readonly sweepIndexCeiling?: { readonly pk: string; readonly writeUnitsPerHold: number; readonly holdsPerSecond: number };
  /** Sweep lag (ms from a hold's expiry to its tickets' return) over the rush. */
  readonly sweepLag?: PercentileSummary;
  /** How long the local sweeps took: a sweep that takes longer than the interval stretches the lag. */
  readonly sweepDuration?: PercentileSummary;
  /** Tickets returned (released or expired) and not on sale at the end: sold again. */
  readonly resold?: number;
}

/** The numbers that combine several sources; pure. */
export function derive(
  load: LoadReport,
  audit: AuditReport | undefined,
  capacity: CapacitySnapshot | undefined,
  raw: RawResult | undefined,
  cpuSeconds: Partial<Record<Process, number>>,
  loops: {
    /** Peak buyers per second, to tell an arrival-limited hold rate. */
    readonly arrivalRate?: number;
    readonly apiClosedLoop?: ApiClosedLoop;
    readonly soldOutProbe?: ClosedLoopSummary;
    readonly environmentProbes?: { readonly refusals?: EnvironmentProbe; readonly eventPage?: EnvironmentProbe };
    readonly sweeps?: SweepStats;
    /**
     * Holds per second when they are not API answers: a `queued` event's holds are made by its
     * consumer (reservation-book.ts, decidedHoldsTimeline), on the capacity meter's seconds.
     */
    readonly holdTimeline?: readonly SecondOfAnswers[];
  } = {},
): Derived {
  const { arrivalRate, holdTimeline } = loops;
  const holdSeconds = holdTimeline ?? capacity?.timeline;
  const selling = holdSeconds && sellingWindow(holdSeconds, capacity?.timeline ?? holdSeconds);
  const peak = holdSeconds && peakHoldsPerSecond(holdSeconds);
  const sold = audit?.sold ?? load.ticketsWon;
  const soldOutAnswers = capacity?.outcomes[outcomes.soldOut];
  const hottest = capacity?.hottestKeys[0];
  const hottestIndexKey = capacity?.hottestIndexKeys?.[0];
  const timelineHolds = holdTimeline?.reduce((sum, second) => sum + (second.answers[outcomes.hold] ?? 0), 0);
  const holds = timelineHolds ?? capacity?.outcomes[outcomes.hold]?.requests ?? load.holds;
  const readCeiling = (probe: EnvironmentProbe | undefined): ReadCeiling | undefined =>
    probe?.readUnitsPerAnswer
      ? { readUnitsPerAnswer: probe.readUnitsPerAnswer, answersPerSecond: awsPartitionLimits.readUnitsPerSecond / probe.readUnitsPerAnswer }
      : undefined;
  const perRequest = Object.fromEntries(Object.entries(cpuSeconds).map(([name, seconds]) => [name, ratio(seconds, load.responses)])) as Partial<
    Record<Process, number>
  >;
  return {
    selling,
    soldOutPath: capacity && selling && soldOutPath(capacity.timeline, selling.lastSecond),
    ticketsPerSecond: selling ? sold / selling.seconds : undefined,
    holdsPerSecond: selling?.holdsPerSecond,
    peakHoldsPerSecond: peak,
    soldOutProbeTimesHoldRate: ratio(loops.soldOutProbe?.perSecond, selling?.holdsPerSecond),
    soldOutProbeTimesApiHoldRate: ratio(loops.soldOutProbe?.perSecond, loops.apiClosedLoop?.perSecond),
    apiToRaw: onEqualTerms(raw, loops.apiClosedLoop) ? ratio(loops.apiClosedLoop?.perSecond, raw?.holdsPerSecond) : undefined,
    dynamoDbCallsPerHold: {
      raw: raw && ratio(raw.calls, raw.holds),
      api: ratio(callsButSweeps(loops.apiClosedLoop?.dynamoDbCalls), loops.apiClosedLoop?.count),
    },
    rushPeakToRaw: ratio(peak, raw?.holdsPerSecond),
    arrivalLimited: peak !== undefined && arrivalRate !== undefined ? peak >= 0.9 * arrivalRate : undefined,
    cpuSecondsPerRequest: perRequest,
    writesPerSoldOutAnswer: soldOutAnswers && ratio(soldOutAnswers.writes, soldOutAnswers.requests),
    readsPerSoldOutAnswer: soldOutAnswers && ratio(soldOutAnswers.reads, soldOutAnswers.requests),
    writeUnitsPerTicket: capacity && ratio(capacity.totals.writeUnits, sold),
    readUnitsPerTicket: capacity && ratio(capacity.totals.readUnits, sold),
    measuredWriteUnitsPerTicket: capacity && ratio(capacity.totals.consumedWriteUnits, sold),
    measuredReadUnitsPerTicket: capacity && ratio(capacity.totals.consumedReadUnits, sold),
    indexWriteUnitsPerTicket: capacity?.totals.indexWriteUnits === undefined ? undefined : ratio(capacity.totals.indexWriteUnits, sold),
    hottestKey: hottest && {
      pk: hottest.pk,
      writeUnits: hottest.writeUnits,
      shareOfWrites: ratio(hottest.writeUnits, capacity.totals.writeUnits) ?? 0,
    },
    ceiling: hottest && projectAwsCeiling({ hottestKeyWriteUnits: hottest.writeUnits, soldTickets: sold, holds }),
    ceilingSucceededOnly:
      capacity && capacity.hottestKeys.length > 0
        ? projectAwsCeiling({
            hottestKeyWriteUnits: Math.max(...capacity.hottestKeys.map((key) => key.writeUnits - (key.failedWriteUnits ?? 0))),
            soldTickets: sold,
            holds,
          })
        : undefined,
    sweepIndexCeiling: hottestIndexKey && holds ? indexCeiling(hottestIndexKey.pk, hottestIndexKey.writeUnits / holds) : undefined,
    refusalCeiling: readCeiling(loops.environmentProbes?.refusals),
    eventPageCeiling: readCeiling(loops.environmentProbes?.eventPage),
    sweepLag: loops.sweeps && percentilesOf(loops.sweeps.lagsMs),
    sweepDuration: loops.sweeps?.tookMs && percentilesOf(loops.sweeps.tookMs),
    resold: audit ? Math.max(0, audit.released + audit.expired - audit.remaining) : undefined,
  };
}

function indexCeiling(pk: string, writeUnitsPerHold: number) {
  return { pk, writeUnitsPerHold, holdsPerSecond: awsPartitionLimits.writeUnitsPerSecond / writeUnitsPerHold };
}

/** Every call but the sweeper's index queries (see Derived.dynamoDbCallsPerHold). */
function callsButSweeps(calls: Readonly<Record<string, number>> | undefined): number | undefined {
  if (!calls) return undefined;
  return Object.entries(calls).reduce((sum, [operation, count]) => (operation === 'Query' ? sum : sum + count), 0);
}

/**
 * API/raw compares two rates of holds: only meaningful when neither side ran out of tickets
 * (load/measurements.ts gives both an event they cannot sell out). A side that sold out part-way
 * divides its holds by time it spent idle, or refusing.
 */
function onEqualTerms(raw: RawResult | undefined, loop: ClosedLoopSummary | undefined): boolean {
  if (!raw || !loop) return false;
  return !raw.soldOut && !Object.keys(loop.otherAnswers).some((answer) => answer.includes('sold_out'));
}
