import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sweeperJob } from '../../lib/jobs';
import { type LocalStack, startLocalStack } from '../../local/local-stack';
import { httpApi, type Stampede, stampede } from '../support/api';

// As a user sees it on `npm start`: nobody touches a hold, and its tickets are on the event page
// again within its hold time plus 5 s. The local server runs the sweeper on a timer (npm start's
// default; the scheduled function does it every minute on AWS), on a table of its own so it
// sweeps only this.
let stack: LocalStack;
let api: Stampede;
const sweepIntervalMs = sweeperJob.locallyEveryMs;
const backWithinMs = 5_000;

beforeAll(async () => {
  stack = await startLocalStack({ port: 0, tableName: 'stampede-self-healing-test', dynamoDbEndpoint: inject('dynamoDbEndpoint'), sweepIntervalMs });
  api = stampede(httpApi(stack.url, stack.issuer));
});
afterAll(() => stack.stop());

describe('a hold nobody touches', () => {
  it('is EXPIRED and its tickets are on sale again within holdSeconds + 5 s', async () => {
    const { body: event } = await api.createEvent({ name: 'Walk-away', capacity: 10, holdSeconds: 30 });
    const held = (await api.reserve(event.eventId, { buyer: 'walker', quantity: 3 })).body;
    // Timed from the hold's own expiry, not from when its answer arrived: on a loaded machine the
    // answer can come a second after the hold was made, and this test shares the clock with the server.
    const expiresAt = Date.parse(held.expiresAt);
    expect((await api.getEvent(event.eventId)).body.available).toBe(7);

    // Looked at every 100 ms, so the look adds little to what is measured.
    let available = 7;
    while (available !== 10 && Date.now() < expiresAt + backWithinMs + 5_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      available = (await api.getEvent(event.eventId)).body.available;
    }
    const backAfterExpiryMs = Date.now() - expiresAt;

    expect(available).toBe(10);
    expect(backAfterExpiryMs).toBeGreaterThanOrEqual(0);
    // One sweep interval (3 s), the sweep, the event page's 1 s staleness bound, and this loop's 100 ms.
    expect(backAfterExpiryMs).toBeLessThanOrEqual(backWithinMs);
    expect((await api.getReservation(held)).body.status).toBe('EXPIRED');
    // And nobody else needed to touch it: its buyer can hold those tickets again.
    expect((await api.reserve(event.eventId, { buyer: 'walker', quantity: 3 })).status).toBe(201);
  }, 60_000);
});
