import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { countedCost, countedIndexWrites, isWriteOperation, keyKind, operationName } from './capacity-units';

/**
 * Meters the local API's DynamoDB traffic for the load test (`npm run rush`): every call is
 * counted per operation and per partition key with AWS's capacity rules (capacity-units.ts),
 * and DynamoDB Local's own ConsumedCapacity is summed beside it. Each call is also attributed
 * to the API request it served (through AsyncLocalStorage), so "DynamoDB writes per sold-out
 * answer" is measured, not inferred. Served at `GET /_local/capacity`; not part of the deployed API.
 */
export interface Usage {
  calls: number;
  failed: number;
  /** Counted with AWS's rules (capacity-units.ts). */
  readUnits: number;
  writeUnits: number;
}

export interface OutcomeUsage {
  /** API answers with this route, status and error code. */
  requests: number;
  /** DynamoDB calls made while serving them. */
  reads: number;
  writes: number;
  readUnits: number;
  writeUnits: number;
}

export interface KeyUsage {
  readonly pk: string;
  readonly kind: string;
  reads: number;
  writes: number;
  readUnits: number;
  writeUnits: number;
  /** Of writeUnits, those of calls that failed (a condition, a cancelled transaction). */
  failedWriteUnits: number;
}

export interface CapacitySnapshot {
  readonly since: number;
  readonly at: number;
  /** API requests started and not answered yet. */
  readonly inFlight: number;
  /** By DynamoDB operation, e.g. `TransactWriteItems`. */
  readonly operations: Record<string, Usage & { consumedReadUnits: number; consumedWriteUnits: number }>;
  /** By `<route id> <status>[ <error code>]`, e.g. `ReserveTickets 409 sold_out`. */
  readonly outcomes: Record<string, OutcomeUsage>;
  /** By key kind, e.g. `EVENT#SHARD` (inventory shards), `RESERVATION`. */
  readonly keyKinds: Record<string, Omit<KeyUsage, 'pk' | 'kind' | 'failedWriteUnits'> & { keys: number }>;
  /** The partition keys with the most write units, hottest first. */
  readonly hottestKeys: readonly KeyUsage[];
  /**
   * The partition keys with the most read units, hottest first (the sold-out path's bound); only
   * those starting with `readKeysOf` when the snapshot was asked for one event's keys.
   */
  readonly hottestReadKeys: readonly KeyUsage[];
  /**
   * The sweep index's partition keys with the most write units, hottest first: a GSI partition
   * takes 1,000 WCU/s too, and a throttled GSI throttles the table's writes. Not in `totals`.
   */
  readonly hottestIndexKeys?: readonly KeyUsage[];
  readonly totals: {
    readonly readUnits: number;
    readonly writeUnits: number;
    /** DynamoDB Local's ConsumedCapacity (TOTAL per table), for successful calls only. */
    readonly consumedReadUnits: number;
    readonly consumedWriteUnits: number;
    /** The sweep index's write units (AWS bills them too); not in `writeUnits`, which counts the table's keys. */
    readonly indexWriteUnits?: number;
  };
  /**
   * Per whole second since `since`: answers by outcome, and the DynamoDB writes made for them,
   * so the sold-out path can be measured after the sell-out only.
   */
  readonly timeline: readonly TimelineSecond[];
}

export interface TimelineSecond {
  readonly second: number;
  readonly answers: Record<string, number>;
  readonly writes: Record<string, number>;
}

interface RequestScope {
  reads: number;
  writes: number;
  readUnits: number;
  writeUnits: number;
}

const hottestKeysReported = 10;
/**
 * One event's read keys: enough that every key a probe reads is in both snapshots it compares
 * (an event's shards, read alike, would tie for a top 10 and drop in and out of it).
 */
const keysOfOneEventReported = 1_000;

export class CapacityMeter {
  private readonly scope = new AsyncLocalStorage<RequestScope>();
  private since = Date.now();
  private inFlight = 0;
  private operations = new Map<string, Usage & { consumedReadUnits: number; consumedWriteUnits: number }>();
  private outcomes = new Map<string, OutcomeUsage>();
  private keys = new Map<string, KeyUsage>();
  private indexKeys = new Map<string, KeyUsage>();
  private seconds = new Map<number, TimelineSecond>();
  /** While paused, calls and requests pass straight through, uncounted but for this tally (see `pause`). */
  private paused = false;
  /** By operation: a sweep's index queries come every few seconds whatever the load, so they must be told apart. */
  private callsWhilePaused = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {
    this.since = now();
  }

  /** Count every call `db` sends from now on. */
  install(db: Pick<DynamoDBDocumentClient, 'middlewareStack'>): void {
    db.middlewareStack.add(
      (next, context) => async (args) => {
        if (this.paused) {
          const operation = operationName(String(context.commandName ?? 'Unknown'));
          this.callsWhilePaused.set(operation, (this.callsWhilePaused.get(operation) ?? 0) + 1);
          return next(args);
        }
        const command = String(context.commandName ?? 'Unknown');
        const input = args.input as Record<string, unknown>;
        // Ask DynamoDB (Local) what it charged, to compare with what we count.
        input.ReturnConsumedCapacity = 'TOTAL';
        let failed = false;
        try {
          const result = await next(args);
          this.recordConsumed(command, (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
          return result;
        } catch (error) {
          failed = true;
          throw error;
        } finally {
          this.recordCall(command, input, failed);
          if (!failed) this.recordIndexWrites(command, input);
        }
      },
      { step: 'initialize', name: 'stampedeCapacityMeter', priority: 'low' },
    );
  }

  /** Run one API request, attributing its DynamoDB calls to its answer. */
  async observe<T extends { statusCode?: number; body?: string }>(routeId: string, handle: () => Promise<T>): Promise<T> {
    if (this.paused) return handle();
    const usage: RequestScope = { reads: 0, writes: 0, readUnits: 0, writeUnits: 0 };
    this.inFlight++;
    try {
      const result = await this.scope.run(usage, handle);
      this.recordAnswer(outcomeKey(routeId, result.statusCode ?? 200, result.body), usage);
      return result;
    } catch (error) {
      this.recordAnswer(outcomeKey(routeId, 500, undefined), usage);
      throw error;
    } finally {
      this.inFlight--;
    }
  }

  /**
   * Stop counting (and asking DynamoDB for ConsumedCapacity) until `resume`: the rush pauses
   * the meter while it measures the API's own speed beside a raw baseline that has no meter.
   * Only the calls are still tallied by operation, so the API's DynamoDB calls per hold can stand
   * beside the raw baseline's.
   */
  pause(): void {
    this.paused = true;
    this.callsWhilePaused = new Map();
  }

  /** Count again; returns the DynamoDB calls that went by while paused, by operation. */
  resume(): Record<string, number> {
    this.paused = false;
    return Object.fromEntries(this.callsWhilePaused);
  }

  reset(): void {
    this.since = this.now();
    this.operations = new Map();
    this.outcomes = new Map();
    this.keys = new Map();
    this.indexKeys = new Map();
    this.seconds = new Map();
  }

  /**
   * `readKeysOf`: a partition key prefix (`EVENT#<id>`) that `hottestReadKeys` is limited to, so a
   * probe of one event finds its keys even when the keys of a whole rush read far more.
   */
  snapshot(readKeysOf?: string): CapacitySnapshot {
    const keyKinds: Record<string, Omit<KeyUsage, 'pk' | 'kind' | 'failedWriteUnits'> & { keys: number }> = {};
    let readUnits = 0;
    let writeUnits = 0;
    for (const key of this.keys.values()) {
      const kind = keyKinds[key.kind] ?? { keys: 0, reads: 0, writes: 0, readUnits: 0, writeUnits: 0 };
      keyKinds[key.kind] = kind;
      kind.keys++;
      kind.reads += key.reads;
      kind.writes += key.writes;
      kind.readUnits += key.readUnits;
      kind.writeUnits += key.writeUnits;
      readUnits += key.readUnits;
      writeUnits += key.writeUnits;
    }
    const operations = Object.fromEntries(this.operations);
    const consumed = Object.values(operations).reduce(
      (sum, usage) => ({ read: sum.read + usage.consumedReadUnits, write: sum.write + usage.consumedWriteUnits }),
      { read: 0, write: 0 },
    );
    return {
      since: this.since,
      at: this.now(),
      inFlight: this.inFlight,
      operations,
      outcomes: Object.fromEntries(this.outcomes),
      keyKinds,
      hottestKeys: [...this.keys.values()].sort((a, b) => b.writeUnits - a.writeUnits).slice(0, hottestKeysReported),
      hottestReadKeys: [...this.keys.values()]
        .filter((key) => readKeysOf === undefined || key.pk.startsWith(readKeysOf))
        .sort((a, b) => b.readUnits - a.readUnits)
        .slice(0, readKeysOf === undefined ? hottestKeysReported : keysOfOneEventReported),
      hottestIndexKeys: [...this.indexKeys.values()].sort((a, b) => b.writeUnits - a.writeUnits).slice(0, hottestKeysReported),
      totals: {
        readUnits,
        writeUnits,
        consumedReadUnits: consumed.read,
        consumedWriteUnits: consumed.write,
        indexWriteUnits: [...this.indexKeys.values()].reduce((sum, key) => sum + key.writeUnits, 0),
      },
      timeline: [...this.seconds.values()].sort((a, b) => a.second - b.second),
    };
  }

  private recordCall(command: string, input: Record<string, unknown>, failed: boolean): void {
    const operation = this.operation(command);
    operation.calls++;
    if (failed) operation.failed++;
    const write = isWriteOperation(command);
    const request = this.scope.getStore();
    if (request) {
      if (write) request.writes++;
      else request.reads++;
    }
    for (const cost of countedCost(command, input)) {
      const key = usageOf(this.keys, cost.pk);
      if (cost.access === 'write') {
        key.writes++;
        key.writeUnits += cost.units;
        if (failed) key.failedWriteUnits += cost.units;
        operation.writeUnits += cost.units;
        if (request) request.writeUnits += cost.units;
      } else {
        key.reads++;
        key.readUnits += cost.units;
        operation.readUnits += cost.units;
        if (request) request.readUnits += cost.units;
      }
    }
  }

  /** A GSI is written only when the table's write succeeded. */
  private recordIndexWrites(command: string, input: Record<string, unknown>): void {
    for (const cost of countedIndexWrites(command, input)) {
      const key = usageOf(this.indexKeys, cost.pk);
      key.writes++;
      key.writeUnits += cost.units;
    }
  }

  private recordConsumed(command: string, consumed: unknown): void {
    const operation = this.operation(command);
    for (const entry of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
      const { CapacityUnits, ReadCapacityUnits, WriteCapacityUnits } = entry as Record<string, number | undefined>;
      if (ReadCapacityUnits !== undefined || WriteCapacityUnits !== undefined) {
        operation.consumedReadUnits += ReadCapacityUnits ?? 0;
        operation.consumedWriteUnits += WriteCapacityUnits ?? 0;
      } else if (isWriteOperation(command)) {
        operation.consumedWriteUnits += CapacityUnits ?? 0;
      } else {
        operation.consumedReadUnits += CapacityUnits ?? 0;
      }
    }
  }

  private recordAnswer(outcome: string, usage: RequestScope): void {
    let stats = this.outcomes.get(outcome);
    if (!stats) {
      stats = { requests: 0, reads: 0, writes: 0, readUnits: 0, writeUnits: 0 };
      this.outcomes.set(outcome, stats);
    }
    stats.requests++;
    stats.reads += usage.reads;
    stats.writes += usage.writes;
    stats.readUnits += usage.readUnits;
    stats.writeUnits += usage.writeUnits;
    const second = Math.floor((this.now() - this.since) / 1000);
    let perSecond = this.seconds.get(second);
    if (!perSecond) {
      perSecond = { second, answers: {}, writes: {} };
      this.seconds.set(second, perSecond);
    }
    perSecond.answers[outcome] = (perSecond.answers[outcome] ?? 0) + 1;
    if (usage.writes > 0) perSecond.writes[outcome] = (perSecond.writes[outcome] ?? 0) + usage.writes;
  }

  private operation(command: string) {
    const name = operationName(command);
    let usage = this.operations.get(name);
    if (!usage) {
      usage = { calls: 0, failed: 0, readUnits: 0, writeUnits: 0, consumedReadUnits: 0, consumedWriteUnits: 0 };
      this.operations.set(name, usage);
    }
    return usage;
  }
}

/** `ReserveTickets 409 sold_out`: the route, the status and, for errors, the error code. */
/** The usage of one partition key, started at zero the first time it is seen. */
function usageOf(keys: Map<string, KeyUsage>, pk: string): KeyUsage {
  let key = keys.get(pk);
  if (!key) {
    key = { pk, kind: keyKind(pk), reads: 0, writes: 0, readUnits: 0, writeUnits: 0, failedWriteUnits: 0 };
    keys.set(pk, key);
  }
  return key;
}

export function outcomeKey(routeId: string, status: number, body: string | undefined): string {
  if (status < 400 || !body) return `${routeId} ${status}`;
  const code = /"error"\s*:\s*"([a-z_]+)"/.exec(body)?.[1];
  return code ? `${routeId} ${status} ${code}` : `${routeId} ${status}`;
}
