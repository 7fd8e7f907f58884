import { resolve } from 'node:path';
import { defaultShardCount, type StrategyName, strategies } from '../functions/domain/model';
import { limits } from '../functions/http/schemas';

/** Flags shared by `npm run rush` and `npm run bench`. Pure. */
export interface RushFlags {
  readonly buyers: number;
  readonly tickets: number;
  readonly shards?: number;
  readonly arrivalRate: number;
  readonly rawSeconds: number;
  readonly warmUpSeconds: number;
  readonly holdSeconds: number;
  readonly artilleryNice: number;
}

export const rushDefaults = {
  buyers: 100_000,
  tickets: 10_000,
  // Near what this 2-core machine serves end to end while Artillery, the API and DynamoDB Local
  // share it; past it the API's queue grows until buyers time out. Raise it on a bigger machine.
  arrivalRate: 300,
  rawSeconds: 10,
  // A fresh DynamoDB Local JVM serves ~25% fewer holds/s after 5 s of warm-up than after 30.
  warmUpSeconds: 30,
  // Short enough that the walkaways' holds expire while buyers still come, and their tickets sell again.
  holdSeconds: 60,
  // Artillery runs at a lower CPU priority than the API and DynamoDB Local, as if the buyers were
  // on machines of their own (see load/artillery-runner.ts). 0 = the same priority.
  artilleryNice: 10,
} as const;

/**
 * Upper bounds of a rush: a load test is bounded in count and time. A million buyers is ten
 * default rushes; 10,000 arrivals a second is 30 times what this machine serves end to end.
 */
const rushMaximums = { buyers: 1_000_000, arrivalRate: 10_000, rawSeconds: 600, warmUpSeconds: 600 } as const;

/** The lowest priority a Unix process can have (nice 19). */
export const maxNice = 19;

/** parseArgs option specs for the shared flags (all strings, validated by readRushFlags). */
export const rushFlagSpecs = {
  buyers: { type: 'string' },
  tickets: { type: 'string' },
  shards: { type: 'string' },
  'arrival-rate': { type: 'string' },
  'raw-seconds': { type: 'string' },
  'warm-up-seconds': { type: 'string' },
  'hold-seconds': { type: 'string' },
  'artillery-nice': { type: 'string' },
} as const;

export function readRushFlags(values: Record<string, string | boolean | undefined>): RushFlags {
  const buyers = integer(values.buyers, 'buyers', rushDefaults.buyers, 1);
  const tickets = integer(values.tickets, 'tickets', rushDefaults.tickets, 1);
  const shards = values.shards === undefined ? undefined : integer(values.shards, 'shards', defaultShardCount, limits.shards.min);
  if (shards !== undefined && shards > limits.shards.max) throw new UsageError(`--shards must be at most ${limits.shards.max}, got ${shards}`);
  const arrivalRate = integer(values['arrival-rate'], 'arrival-rate', rushDefaults.arrivalRate, 1);
  const rawSeconds = integer(values['raw-seconds'], 'raw-seconds', rushDefaults.rawSeconds, 0);
  const warmUpSeconds = integer(values['warm-up-seconds'], 'warm-up-seconds', rushDefaults.warmUpSeconds, 0);
  const holdSeconds = integer(values['hold-seconds'], 'hold-seconds', rushDefaults.holdSeconds, limits.holdSeconds.min);
  if (holdSeconds > limits.holdSeconds.max) throw new UsageError(`--hold-seconds must be at most ${limits.holdSeconds.max}, got ${holdSeconds}`);
  const artilleryNice = integer(values['artillery-nice'], 'artillery-nice', rushDefaults.artilleryNice, 0);
  if (artilleryNice > maxNice) throw new UsageError(`--artillery-nice must be at most ${maxNice}, got ${artilleryNice}`);
  const { max } = limits.capacity;
  if (tickets > max) throw new UsageError(`--tickets must be at most ${max} (the API's capacity limit), got ${tickets}`);
  const bounded: [flag: string, value: number, most: number][] = [
    ['buyers', buyers, rushMaximums.buyers],
    ['arrival-rate', arrivalRate, rushMaximums.arrivalRate],
    ['raw-seconds', rawSeconds, rushMaximums.rawSeconds],
    ['warm-up-seconds', warmUpSeconds, rushMaximums.warmUpSeconds],
  ];
  for (const [flag, value, most] of bounded) if (value > most) throw new UsageError(`--${flag} must be at most ${most}, got ${value}`);
  return { buyers, tickets, shards, arrivalRate, rawSeconds, warmUpSeconds, holdSeconds, artilleryNice };
}

export function readStrategy(value: string | boolean | undefined): StrategyName {
  if (value === undefined) return 'sharded';
  if (typeof value === 'string' && (strategies as readonly string[]).includes(value)) return value as StrategyName;
  throw new UsageError(`--strategy must be one of ${strategies.join(', ')}, got '${String(value)}'`);
}

export function readStrategies(value: string | boolean | undefined): StrategyName[] {
  if (value === undefined) return [...strategies];
  return String(value)
    .split(',')
    .map((name) => readStrategy(name.trim()));
}

/** `.stampede/rush/<time>-<strategy>` under the project: git-ignored. */
export function defaultOutputDir(root: string, label: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
  return resolve(root, '.stampede', 'rush', `${stamp}-${label}`);
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function integer(value: string | boolean | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(String(value).replace(/_/g, ''));
  if (!Number.isInteger(parsed) || parsed < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${String(value)}'`);
  return parsed;
}
