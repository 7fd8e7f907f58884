import { describe, expect, it } from 'vitest';
import { measureRaw } from '../../load/raw-baseline';
import { inProcessApi, stampede } from '../support/api';
import { audit } from '../support/audit';
import { testApp } from '../support/test-app';

// The raw baseline is what API/raw divides by: it must send the strategy's requests the way the
// API does, or the ratio measures the difference between two algorithms instead of the API's cost.
describe('the raw baseline', () => {
  it("takes a pessimistic event's lock in turns, as the API's holds of one process do: each hold at the first ask", async () => {
    const app = testApp();
    const { body: event } = await stampede(inProcessApi(app)).createEvent({ name: 'raw pessimistic', capacity: 60, strategy: 'pessimistic' });
    const raw = await measureRaw(event, { endpoint: process.env.DYNAMODB_ENDPOINT!, tableName: app.config.tableName, seconds: 120, concurrency: 16 });

    expect(raw).toMatchObject({ holds: 60, soldOut: true });
    // A hold: take the lock, read the count and the tally, one transaction. A sold-out attempt (one
    // per client at most, at the end): take the lock, the same two reads, release. Nothing else:
    // a lock asked for while held would add a refused update and a look at the lock.
    expect(raw.calls % 4).toBe(0);
    expect(raw.calls / 4 - raw.holds).toBeGreaterThanOrEqual(1);
    expect(raw.calls / 4 - raw.holds).toBeLessThanOrEqual(16);
    expect(await audit(app, event.eventId)).toMatchObject({ sold: 60, oversold: 0, violations: [] });
  });
});
