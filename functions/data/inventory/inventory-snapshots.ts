import type { TicketEvent } from '../../domain/model';

type ReadShards = (event: TicketEvent) => Promise<number[]>;

interface EventFlight {
  /** Callers that arrived so far (a ticket number per caller). */
  arrivals: number;
  inFlight?: Promise<number[]>;
  /** The highest caller ticket the in-flight read serves: it started after they arrived. */
  covers: number;
}

/**
 * Single-flight snapshots of an event's shards. Every caller gets a read that *started after
 * it arrived*, so a sold-out verdict is never older than the request it answers; concurrent
 * callers in one process share that read. On Lambda (one request per container at a time)
 * this is one read per sold-out answer; in the local server it collapses a stampede of
 * sold-out answers into a handful of reads.
 */
export class InventorySnapshots {
  private readonly flights = new Map<string, EventFlight>();

  constructor(
    private readonly readShards: ReadShards,
    private readonly maxEvents = 1_000,
  ) {}

  async latest(event: TicketEvent): Promise<number[]> {
    const flight = this.flightFor(event.eventId);
    const ticket = ++flight.arrivals;
    for (;;) {
      if (flight.inFlight && flight.covers >= ticket) return flight.inFlight;
      if (!flight.inFlight) {
        flight.covers = flight.arrivals;
        const started: Promise<number[]> = this.readShards(event).finally(() => {
          if (flight.inFlight === started) flight.inFlight = undefined;
        });
        flight.inFlight = started;
        return started;
      }
      // A read is under way but started before we arrived: wait for it, then join the next.
      await flight.inFlight.catch(() => undefined);
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
