import { describe, expect, it } from 'vitest';
import { queueDeciderJob } from '../../lib/jobs';
import { matches } from '../../local/stream-poller';

/** A stream record as Lambda sees it (NEW_IMAGE view), reduced to what filters look at. */
const record = (eventName: string, pk: string, newImageType?: string) => ({
  eventName,
  dynamodb: { Keys: { pk: { S: pk }, sk: { S: 'x' } }, ...(newImageType && { NewImage: { pk: { S: pk }, type: { S: newImageType } } }) },
});

describe("the queue consumer's stream filter, as the local poller applies it", () => {
  it('keeps log entries as written, and nothing else', () => {
    expect(matches(record('INSERT', 'QUEUE#evt_1#3', 'QueueEntry'), queueDeciderJob.filter)).toBe(true);
    // TTL removing an entry: no new image.
    expect(matches(record('REMOVE', 'QUEUE#evt_1#3'), queueDeciderJob.filter)).toBe(false);
    expect(matches(record('INSERT', 'RESERVATION#res_1', 'Reservation'), queueDeciderJob.filter)).toBe(false);
    expect(matches(record('INSERT', 'QUEUE#evt_1#3', 'Reservation'), queueDeciderJob.filter)).toBe(false);
    expect(matches(record('INSERT', 'EVENT#evt_1#QUEUE#', 'QueueEntry'), queueDeciderJob.filter)).toBe(false);
  });

  it('filters on the dynamodb key only, as DynamoDB event source mappings require', () => {
    expect(Object.keys(queueDeciderJob.filter)).toEqual(['dynamodb']);
    expect(matches({ eventName: 'INSERT' }, queueDeciderJob.filter)).toBe(false);
    expect(matches({ dynamodb: { Keys: { pk: { N: '1' } } } }, queueDeciderJob.filter)).toBe(false);
  });
});
