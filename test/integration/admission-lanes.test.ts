import { describe, expect, it } from 'vitest';
import { inProcessApi, stampede } from '../support/api';
import { audit } from '../support/audit';
import { testApp } from '../support/test-app';

/**
 * A saturated process (here: one request at a time) serves a buyer finishing a purchase before
 * buyers starting one, whatever their arrival order: the real handlers, the real admission
 * limiter, DynamoDB Local. Without the lanes the confirm and release would wait behind every hold.
 */
describe('admission under saturation', () => {
  it('answers confirms and releases before new holds that arrived earlier', async () => {
    const app = testApp({ config: { maxConcurrentRequests: 1 } });
    const api = stampede(inProcessApi(app));
    const { body: event } = await api.createEvent({ name: 'lanes', capacity: 100, strategy: 'sharded', shards: 4, maxPerBuyer: 4 });
    const toConfirm = (await api.reserve(event.eventId, { buyer: 'paying', quantity: 1 })).body;
    const toRelease = (await api.reserve(event.eventId, { buyer: 'leaving', quantity: 1 })).body;

    const answered: string[] = [];
    const track = (name: string, request: Promise<{ status: number }>) =>
      request.then(({ status }) => {
        answered.push(name);
        return status;
      });
    const newHolds = Array.from({ length: 12 }, (_, n) => track(`hold ${n}`, api.reserve(event.eventId, { buyer: `newcomer-${n}`, quantity: 1 })));
    const finishing = [track('confirm', api.confirm(toConfirm)), track('release', api.release(toRelease))];

    expect(await Promise.all(finishing)).toEqual([200, 200]);
    expect(await Promise.all(newHolds)).toEqual(Array(12).fill(201));
    // The first hold was already running when the confirm and release queued; every other hold waited for them.
    expect(answered.slice(0, 3).sort()).toEqual(['confirm', 'hold 0', 'release']);
    expect((await api.getEvent(event.eventId)).body.available).toBe(100 - 1 - 12);
    expect((await audit(app, event.eventId)).violations).toEqual([]);
  });
});
