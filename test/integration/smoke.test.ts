import { describe, expect, it } from 'vitest';
import { inProcessApi, stampede } from '../support/api';
import { testApp } from '../support/test-app';

describe('smoke', () => {
  it('creates an event and holds tickets', async () => {
    const api = stampede(inProcessApi(testApp()));
    const created = await api.createEvent({ name: 'Smoke', capacity: 10 });
    expect(created.status).toBe(201);
    const reserved = await api.reserve(created.body.eventId, { buyerId: 'a', quantity: 2 }, 'smoke-key');
    expect(reserved.status, JSON.stringify(reserved.body)).toBe(201);
    const again = await api.getEvent(created.body.eventId);
    expect(again.body.available).toBe(8);
  });
});
