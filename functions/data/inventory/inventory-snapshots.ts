import type { TicketEvent } from '../../domain/model';

type ReadShards = (event: TicketEvent) => Promise<number[]>;

export interface Snapshot {
  /** Tickets per shard, from one strongly consistent read. */
  readonly available: readonly number[];
  /** The read started after the caller asked: it has everything that happened before. */
  readonly startedAfterAsking: boolean;
}

interface EventFlight {
  /** Callers that arrived so far (a ticket number per caller). */
  arrivals: number;
  inFlight?: { readonly startedAt: number; readonly result: Promise<number[]> };
  /** The highest caller ticket the in-flight read serves: it started after they arrived. */
  covers: number;
  /** The last read that succeeded. */
  last?: { readonly startedAt: number; readonly available: readonly number[] };
}

/**
 * Strongly consistent reads of an event's shards, single-flight and kept for a bounded time. A
 * caller gets a read that started at most `maxAgeMs` before it asked, else one that starts after
 * it asked; concurrent callers share it. So a sold-out answer is never older than that bound: a
 * ticket that came back (a release, an expiry, a repair) is seen by every request that arrives
 * `maxAgeMs` after it.
 *
 * On Lambda (one request per environment at a time) an environment reads an event's shards at
 * most once per `maxAgeMs` however many refusals it answers, so the read units per partition stop
 * growing with the refusals; the local server shares its reads among all its requests.
 */
export class InventorySnapshots {
  private readonly flights = new Map<string, EventFlight>();

  constructor(
    private readonly readShards: ReadShards,
    private readonly now: () => number = Date.now,
    private readonly maxEvents = 1_000,
  ) {}

  async latest(event: TicketEvent, maxAgeMs: number): Promise<Snapshot> {
    const askedAt = this.now();
    const flight = this.flightFor(event.eventId);
    // With no staleness allowed, only a read that starts after this call will do (ticket order below).
    const oldestUsable = maxAgeMs > 0 ? askedAt - maxAgeMs : Number.POSITIVE_INFINITY;
    if (flight.last && flight.last.startedAt >= oldestUsable) return { available: flight.last.available, startedAfterAsking: flight.last.startedAt > askedAt };
    const ticket = ++flight.arrivals;
    for (;;) {
      const inFlight = flight.inFlight;
      if (inFlight && (flight.covers >= ticket || inFlight.startedAt >= oldestUsable)) {
        // Decided now: by the time the read answers, a newer read may cover this caller, but this one does not.
        const startedAfterAsking = flight.covers >= ticket;
        return { available: await inFlight.result, startedAfterAsking };
      }
      if (!inFlight) {
        flight.covers = flight.arrivals;
        const startedAt = this.now();
        const result = this.readShards(event);
        const read = { startedAt, result };
        flight.inFlight = read;
        result.then(
          (available) => {
            if (!flight.last || flight.last.startedAt <= startedAt) flight.last = { startedAt, available };
          },
          () => undefined,
        );
        result
          .finally(() => {
            if (flight.inFlight === read) flight.inFlight = undefined;
          })
          .catch(() => undefined);
        return { available: await result, startedAfterAsking: true };
      }
      // A read is under way but started too early for us: wait for it, then join the next.
      await inFlight.result.catch(() => undefined);
    }
  }

  private flightFor(eventId: string): EventFlight {
    let flight = this.flights.get(eventId);
    if (!flight) {
      if (this.flights.size >= this.maxEvents) this.flights.delete(this.flights.keys().next().value!);
      flight = { arrivals: 0, covers: 0 };
      this.flights.set(eventId, flight);
    }
    return flight;
  }
}
