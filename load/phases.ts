/**
 * The arrival shape of a flash-sale rush, as Artillery phases: a short warm-up (DynamoDB
 * Local's JVM and the API's caches get going), the spike when the sale opens, then the tail of
 * latecomers who find it sold out. `arrivalCount` phases spread their buyers evenly over the
 * phase and add up to exactly `buyers`.
 * https://www.artillery.io/docs/reference/test-script#phases---load-phases
 */
export interface ArrivalPhase {
  readonly name: string;
  /** Seconds. */
  readonly duration: number;
  readonly arrivalCount: number;
}

/** Shares of the buyers and of the peak rate per phase. */
const rushShape = {
  warmUp: { maxShareOfBuyers: 0.05, shareOfPeak: 0.1, maxSeconds: 10 },
  spike: { shareOfBuyers: 0.8 },
  tail: { shareOfPeak: 0.5 },
} as const;

export function rushPhases(buyers: number, peakArrivalRate: number): ArrivalPhase[] {
  if (!Number.isInteger(buyers) || buyers < 1) throw new Error(`buyers must be a positive integer, got ${buyers}`);
  if (!(peakArrivalRate > 0)) throw new Error(`the peak arrival rate must be positive, got ${peakArrivalRate}`);
  const { warmUp, spike, tail } = rushShape;
  const warmUpRate = Math.max(1, peakArrivalRate * warmUp.shareOfPeak);
  const warmUpCount = Math.min(Math.floor(buyers * warmUp.maxShareOfBuyers), Math.floor(warmUpRate * warmUp.maxSeconds));
  const spikeCount = Math.min(buyers - warmUpCount, Math.max(1, Math.round(buyers * spike.shareOfBuyers)));
  const tailCount = buyers - warmUpCount - spikeCount;
  const phase = (name: string, count: number, rate: number): ArrivalPhase => ({
    name,
    duration: Math.max(1, Math.ceil(count / rate)),
    arrivalCount: count,
  });
  return [
    ...(warmUpCount > 0 ? [phase('warm-up', warmUpCount, warmUpRate)] : []),
    phase('spike', spikeCount, peakArrivalRate),
    ...(tailCount > 0 ? [phase('tail', tailCount, Math.max(1, peakArrivalRate * tail.shareOfPeak))] : []),
  ];
}
