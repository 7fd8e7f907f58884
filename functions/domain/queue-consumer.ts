import type { Clock } from './clock';
import type { EventRepository, QueueDecisions, QueueDecisionTally, QueuedRequest, Telemetry } from './ports';

/** A log entry as the stream delivered it: the request, and its place in the stream. */
export interface Delivered {
  readonly request: QueuedRequest;
  /** The stream record's sequence number: what a partial failure names. */
  readonly position: string;
}

export interface ConsumeReport extends QueueDecisionTally {
  /** The earliest position that could not be decided: the stream delivers it and what follows again. */
  readonly failedAt?: string;
}

/**
 * The consumer of `queued` events' logs: a batch of log entries, as the stream delivers them
 * (in order within each log key), decided event by event in that order (QueueDecisions). An
 * event that fails (throttled beyond its retries, say) reports its first entry as failed, so the
 * stream delivers it again with everything after it; what was decided already is skipped then.
 */
export class QueueConsumer {
  constructor(
    private readonly events: EventRepository,
    private readonly decisions: QueueDecisions,
    private readonly clock: Clock,
    private readonly telemetry: Telemetry,
    private readonly onError: (message: string, detail: Record<string, unknown>) => void,
  ) {}

  async consume(batch: readonly Delivered[]): Promise<ConsumeReport> {
    const byEvent = new Map<string, Delivered[]>();
    for (const delivered of batch) byEvent.set(delivered.request.eventId, [...(byEvent.get(delivered.request.eventId) ?? []), delivered]);
    const totals = { held: 0, ticketsHeld: 0, rejected: 0, alreadyDecided: 0, chunks: 0 };
    const failures: string[] = [];
    await Promise.all(
      [...byEvent].map(async ([eventId, delivered]) => {
        try {
          const event = await this.events.find(eventId);
          // A log entry of no event can never be decided: a poison record must not block the rest.
          if (!event) return this.onError('A queued request names no event; skipped', { eventId, count: delivered.length });
          const tally = await this.decisions.decide(
            event,
            delivered.map((entry) => entry.request),
            () => this.clock.now(),
          );
          for (const key of Object.keys(totals) as (keyof QueueDecisionTally)[]) totals[key] += tally[key];
          this.telemetry.count('QueueHeld', 'queued', tally.held);
          this.telemetry.count('QueueRejected', 'queued', tally.rejected);
        } catch (error) {
          // Reported as a partial batch failure, so the invocation itself succeeds: this count is what shows it.
          this.telemetry.count('QueueDecisionFailed', 'queued');
          this.onError('Could not decide queued requests; the stream will deliver them again', { eventId, error });
          failures.push(delivered[0]!.position);
        }
      }),
    );
    const failedAt = failures.sort(compareSequenceNumbers)[0];
    return { ...totals, ...(failedAt !== undefined && { failedAt }) };
  }
}

/** Stream sequence numbers are decimal strings of growing length. */
function compareSequenceNumbers(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
