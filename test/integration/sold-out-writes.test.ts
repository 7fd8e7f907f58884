import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config';
import { createDocumentClient } from '../../functions/data/dynamodb-client';
import { inProcessApi, stampede } from '../support/api';
import { audit } from '../support/audit';
import { buy, countBy } from '../support/buyers';
import { beforeCalls, type CallInfo } from '../support/faults';
import { testApp } from '../support/test-app';

const writeOperations = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem']);

// Tickets small enough that the winners never conflict with each other on DynamoDB Local
// (optimistic's version check would make winners retry, pessimistic's winners wait for the lock),
// and the DynamoDB writes one hold makes.
const races = [
  { strategy: 'sharded', capacity: 8, writesPerHold: 1 },
  { strategy: 'transactional', capacity: 4, writesPerHold: 1 },
  { strategy: 'conditional', capacity: 4, writesPerHold: 3 },
  { strategy: 'optimistic', capacity: 1, writesPerHold: 3 },
  // Taking the lock and the transaction that releases it; one winner, so no failed acquire.
  { strategy: 'pessimistic', capacity: 1, writesPerHold: 2 },
] as const;

describe.each(races)('$strategy when 60 buyers race for the last $capacity ticket(s)', ({ strategy, capacity, writesPerHold }) => {
  it('writes only for the winners: the others are refused by a read, without a failed write', async () => {
    const db = createDocumentClient(loadConfig());
    const writes: CallInfo[] = [];
    beforeCalls(
      db,
      (call) => writeOperations.has(call.operation),
      (call) => void writes.push(call),
    );
    // Past its hold budget a waiting hold stops waiting for claims and lets its write decide
    // (ticket-claims.ts): a slow DynamoDB Local late in a full run must not make that happen here.
    const app = testApp({ db, config: { holdBudgetMs: 60_000 } });
    const api = stampede(inProcessApi(app));
    const { body: event } = await api.createEvent({
      name: `last tickets ${strategy}`,
      capacity,
      strategy,
      shards: strategy === 'sharded' ? capacity : undefined,
    });
    writes.length = 0;

    const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => buy(api, event.eventId, `b${i}`, 1, `${event.eventId}-${i}`)));

    expect(countBy(responses, (r) => r.status)).toEqual({ 201: capacity, 409: 60 - capacity });
    expect(writes).toHaveLength(capacity * writesPerHold);
    expect(app.telemetry.snapshot()[`${strategy}.SoldOutWithoutWrite`]).toBeGreaterThanOrEqual(60 - capacity);
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ sold: capacity, remaining: 0 });
  });
});
