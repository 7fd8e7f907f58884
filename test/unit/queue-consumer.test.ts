import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../functions/domain/clock';
import type { TicketEvent } from '../../functions/domain/model';
import type { EventRepository, QueueDecisions, QueuedRequest } from '../../functions/domain/ports';
import { type Delivered, QueueConsumer } from '../../functions/domain/queue-consumer';

const event = (eventId: string): TicketEvent => ({
  eventId,
  name: eventId,
  capacity: 10,
  strategy: 'queued',
  shards: 1,
  holdSeconds: 60,
  maxPerBuyer: 4,
  createdAt: 0,
});
/** A log entry at stream position `position` (sequence numbers are decimal strings of growing length). */
const entry = (eventId: string, position: string): Delivered => ({
  request: { eventId, reservationId: `res_${eventId}_${position}`, buyerId: 'b', quantity: 1, createdAt: Number(position) },
  position,
});

/** A consumer over events that exist unless named in `missing`, whose decisions fail for the events in `failing`. */
function consumer({ missing = [] as string[], failing = [] as string[] } = {}) {
  const decided: [string, string[]][] = [];
  const errors: string[] = [];
  const events: EventRepository = {
    create: async () => undefined,
    find: async (eventId) => (missing.includes(eventId) ? undefined : event(eventId)),
    remaining: async () => 0,
  };
  const decisions: QueueDecisions = {
    async decide(decidedEvent: TicketEvent, requests: readonly QueuedRequest[]) {
      if (failing.includes(decidedEvent.eventId)) throw new Error('ProvisionedThroughputExceededException');
      decided.push([decidedEvent.eventId, requests.map((request) => request.reservationId)]);
      return { held: requests.length, ticketsHeld: requests.length, rejected: 0, alreadyDecided: 0, chunks: 1 };
    },
    rejectUndecided: async () => false,
  };
  const counted: string[] = [];
  const telemetry = { count: (metric: string, strategy: string, value = 1) => void counted.push(`${metric} ${strategy} ${value}`) };
  const queue = new QueueConsumer(events, decisions, new ManualClock(), telemetry, (message) => void errors.push(message));
  return { queue, decided, errors, counted };
}

describe('the queue consumer', () => {
  it('decides each event of a batch in log order, all of them', async () => {
    const { queue, decided } = consumer();
    const report = await queue.consume([entry('a', '10'), entry('b', '11'), entry('a', '12')]);
    expect(decided.sort()).toEqual([
      ['a', ['res_a_10', 'res_a_12']],
      ['b', ['res_b_11']],
    ]);
    expect(report).toMatchObject({ held: 3 });
    expect(report.failedAt).toBeUndefined();
  });

  it('skips a poison record (a log entry of no event) and decides the rest: it never blocks the stream', async () => {
    const { queue, decided, errors } = consumer({ missing: ['ghost'] });
    const report = await queue.consume([entry('ghost', '10'), entry('a', '11')]);
    expect(decided).toEqual([['a', ['res_a_11']]]);
    expect(report.failedAt).toBeUndefined();
    expect(errors).toEqual(['A queued request names no event; skipped']);
  });

  it('reports the earliest first entry of the events that failed, having decided the others', async () => {
    // Positions compare as numbers: "9" is before "10" though it sorts after it as text.
    const { queue, decided, counted } = consumer({ failing: ['b', 'c'] });
    const report = await queue.consume([entry('a', '8'), entry('c', '9'), entry('b', '10'), entry('a', '11'), entry('c', '12')]);
    expect(decided).toEqual([['a', ['res_a_8', 'res_a_11']]]);
    expect(report.failedAt).toBe('9');
    // The invocation succeeds (a partial failure): the count is what the DecisionFailures alarm sees.
    expect(counted.filter((line) => line.startsWith('QueueDecisionFailed'))).toEqual(['QueueDecisionFailed queued 1', 'QueueDecisionFailed queued 1']);
  });
});
