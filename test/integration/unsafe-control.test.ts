import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config';
import { createDocumentClient } from '../../functions/data/dynamodb-client';
import { inProcessApi, stampede } from '../support/api';
import { audit } from '../support/audit';
import { countBy } from '../support/buyers';
import { afterCalls, barrier, type CallInfo } from '../support/faults';
import { testApp } from '../support/test-app';

describe('the unsafe control strategy', () => {
  it('oversells deterministically when buyers all read before anyone writes', async () => {
    const db = createDocumentClient(loadConfig());
    const buyers = 5;
    // Hold every inventory read until all five buyers have read: the classic check-then-act race.
    const everyoneHasRead = barrier(buyers);
    afterCalls(db, (call) => call.operation === 'GetItem' && String(call.input.Key?.pk).includes('#SHARD#'), everyoneHasRead);
    const app = testApp({ db, config: { allowUnsafe: true } });
    const api = stampede(inProcessApi(app));
    const { body: event } = await api.createEvent({ name: 'unsafe', capacity: 1, strategy: 'unsafe' });

    const responses = await Promise.all(Array.from({ length: buyers }, (_, i) => api.reserve(event.eventId, { buyer: `b${i}`, quantity: 1 })));

    expect(countBy(responses, (r) => r.status)).toEqual({ 201: 5 });
    const report = await audit(app, event.eventId);
    expect(report).toMatchObject({ capacity: 1, sold: 5, oversold: 4, remaining: 0 });
    expect(report.violations.map((v) => v.kind)).toContain('oversold');
  });

  it.each(['sharded', 'transactional', 'conditional', 'optimistic', 'pessimistic'] as const)(
    'cannot make %s oversell with the same forced interleaving',
    async (strategy) => {
      // The same trick, across five processes (five Lambda environments: one process shares its
      // reads and claims tickets before writing, so it never races itself). Each reads the
      // inventory once before its first write; no write goes out until all five have read.
      const { body: event } = await stampede(inProcessApi(testApp())).createEvent({ name: `forced ${strategy}`, capacity: 1, strategy });
      const everyoneHasRead = barrier(5);
      const buyers = Array.from({ length: 5 }, () => {
        const db = createDocumentClient(loadConfig());
        const isInventoryRead = (call: CallInfo) =>
          /^(GetItem|BatchGetItem|TransactGetItems)$/.test(call.operation) && JSON.stringify(call.input).includes('#SHARD#');
        afterCalls(db, isInventoryRead, everyoneHasRead);
        return stampede(inProcessApi(testApp({ db })));
      });
      const app = testApp();

      const responses = await Promise.all(buyers.map((api, i) => api.reserve(event.eventId, { buyer: `b${i}`, quantity: 1 })));

      expect(countBy(responses, (r) => r.status)).toEqual({ 201: 1, 409: 4 });
      const report = await audit(app, event.eventId);
      expect(report.violations).toEqual([]);
      expect(report).toMatchObject({ sold: 1, oversold: 0 });
    },
  );

  it('is refused unless the process allows it', async () => {
    const api = stampede(inProcessApi(testApp({ config: { allowUnsafe: false } })));
    const created = await api.createEvent({ name: 'unsafe', capacity: 10, strategy: 'unsafe' });
    expect([created.status, created.body.error]).toEqual([403, 'unsafe_strategy_disabled']);

    const permissive = stampede(inProcessApi(testApp({ config: { allowUnsafe: true } })));
    const { body: event } = await permissive.createEvent({ name: 'unsafe', capacity: 10, strategy: 'unsafe' });
    const reserve = await api.reserve(event.eventId, { buyer: 'a', quantity: 1 });
    expect([reserve.status, reserve.body.error]).toEqual([403, 'unsafe_strategy_disabled']);
    expect((await permissive.getEvent(event.eventId)).body.available).toBe(10);
  });
});
