import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../functions/domain/clock';
import { inProcessApi, stampede } from '../support/api';
import { audit } from '../support/audit';
import { afterCalls } from '../support/faults';
import { appFor } from '../support/queued';

const strategies = ['sharded', 'transactional', 'conditional', 'optimistic', 'pessimistic', 'queued'] as const;
const holdSeconds = 60;

async function setUp(strategy: (typeof strategies)[number]) {
  const clock = new ManualClock(Date.UTC(2026, 10, 22, 12));
  const app = await appFor(strategy, { clock });
  const api = stampede(inProcessApi(app));
  const { body: event } = await api.createEvent({ name: `lifecycle ${strategy}`, capacity: 10, strategy, holdSeconds, maxPerBuyer: 4 });
  const hold = async (buyerId = 'alice', quantity = 2) => {
    const response = await api.reserve(event.eventId, { buyer: buyerId, quantity });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  };
  const available = async () => (await api.getEvent(event.eventId)).body.available;
  return { app, api, clock, event, hold, available };
}

describe.each(strategies)('%s: a hold through its life', (strategy) => {
  it('holds tickets with an expiry and confirms them, idempotently', async () => {
    const { api, clock, hold, available, app, event } = await setUp(strategy);
    const reservation = await hold();
    expect(reservation).toMatchObject({ status: 'HELD', quantity: 2, buyerId: 'alice' });
    expect(reservation.expiresAt).toBe(new Date(clock.now() + holdSeconds * 1000).toISOString());
    expect(await available()).toBe(8);

    const first = await api.confirm(reservation);
    const second = await api.confirm(reservation);
    expect([first.status, first.body.status, second.status, second.body.status]).toEqual([200, 'CONFIRMED', 200, 'CONFIRMED']);

    // A confirmed purchase outlives its hold and cannot be released.
    clock.advance(holdSeconds * 2 * 1000);
    expect((await api.getReservation(reservation)).body.status).toBe('CONFIRMED');
    const release = await api.release(reservation);
    expect([release.status, release.body.error]).toEqual([409, 'not_held']);
    expect(await available()).toBe(8);
    expect((await audit(app, event.eventId)).violations).toEqual([]);
  });

  it('returns released tickets to inventory and to the buyer exactly once', async () => {
    const { api, hold, available, app, event } = await setUp(strategy);
    const reservation = await hold('bob', 4);
    expect(await available()).toBe(6);

    const releases = await Promise.all(Array.from({ length: 5 }, () => api.release(reservation)));
    expect(releases.map((r) => [r.status, r.body.status])).toEqual(Array(5).fill([200, 'RELEASED']));
    expect(await available()).toBe(10);
    expect((await api.release(reservation)).body.status).toBe('RELEASED');
    expect(await available()).toBe(10);

    // The buyer's allowance came back too: 4 more tickets are allowed.
    await hold('bob', 4);
    const confirm = await api.confirm(reservation);
    expect([confirm.status, confirm.body.error]).toEqual([409, 'not_held']);
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ held: 4, remaining: 6 });
  });

  it('refuses to confirm an expired hold with 410 and gives its tickets back', async () => {
    const { api, clock, hold, available, app, event } = await setUp(strategy);
    const reservation = await hold('carol', 3);
    clock.advance(holdSeconds * 1000 - 1);
    expect((await api.getReservation(reservation)).body.status).toBe('HELD');
    clock.advance(1);
    expect((await api.getReservation(reservation)).body.status).toBe('EXPIRED');
    expect(await available()).toBe(7); // not swept yet: still out of inventory

    const confirm = await api.confirm(reservation);
    expect([confirm.status, confirm.body.error]).toEqual([410, 'hold_expired']);
    expect(await available()).toBe(10);
    const again = await Promise.all([api.confirm(reservation), api.release(reservation)]);
    expect(again.map((r) => r.status)).toEqual([410, 410]);
    expect(await available()).toBe(10);
    const report = await audit(app, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ held: 0, remaining: 10 });
  });

  it('returns an expired hold exactly once when release and confirm race after expiry', async () => {
    const { api, clock, hold, available, app, event } = await setUp(strategy);
    const reservations = [await hold('dan', 2), await hold('erin', 2)];
    clock.advance(holdSeconds * 1000);
    const answers = await Promise.all(reservations.flatMap((r) => [api.release(r), api.confirm(r), api.release(r)]));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(410));
    expect(await available()).toBe(10);
    expect((await audit(app, event.eventId)).violations).toEqual([]);
  });

  it('lets exactly one of a concurrent confirm and release win', async () => {
    const { api, hold, available, app, event } = await setUp(strategy);
    const reservation = await hold('frank', 1);
    const [confirm, release] = await Promise.all([api.confirm(reservation), api.release(reservation)]);
    const winners = [confirm, release].filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    const loser = [confirm, release].find((r) => r.status !== 200)!;
    expect([loser.status, loser.body.error]).toEqual([409, 'not_held']);
    expect(await available()).toBe(confirm.status === 200 ? 9 : 10);
    expect((await audit(app, event.eventId)).violations).toEqual([]);
  });
});

describe('idempotency keys and not-found answers', () => {
  it('answers a replay with the original hold, and a key reused by its buyer with 422', async () => {
    const { api, event, available } = await setUp('sharded');
    const first = await api.reserve(event.eventId, { buyer: 'gina', quantity: 2 }, 'key-gina-1');
    const replay = await api.reserve(event.eventId, { buyer: 'gina', quantity: 2 }, 'key-gina-1');
    expect([first.status, replay.status]).toEqual([201, 200]);
    expect(replay.body).toEqual(first.body);

    const otherBody = await api.reserve(event.eventId, { buyer: 'gina', quantity: 3 }, 'key-gina-1');
    expect([otherBody.status, otherBody.body.error]).toEqual([422, 'idempotency_key_reused']);
    const { body: otherEvent } = await api.createEvent({ name: 'other', capacity: 5 });
    expect((await api.reserve(otherEvent.eventId, { buyer: 'gina', quantity: 2 }, 'key-gina-1')).status).toBe(422);
    expect(await available()).toBe(8);
  });

  it('scopes a key to its buyer: the same key from two buyers makes two independent holds', async () => {
    const { api, event, available, app } = await setUp('transactional');
    const [gina, hank] = await Promise.all([
      api.reserve(event.eventId, { buyer: 'gina', quantity: 2 }, 'shared-key'),
      api.reserve(event.eventId, { buyer: 'hank', quantity: 2 }, 'shared-key'),
    ]);
    expect([gina.status, hank.status]).toEqual([201, 201]);
    expect(gina.body.reservationId).not.toBe(hank.body.reservationId);
    expect([gina.body.buyerId, hank.body.buyerId]).toEqual(['gina', 'hank']);
    // Hank's replay finds his own hold, not Gina's.
    expect((await api.reserve(event.eventId, { buyer: 'hank', quantity: 2 }, 'shared-key')).body.reservationId).toBe(hank.body.reservationId);
    expect(await available()).toBe(6);
    expect(await audit(app, event.eventId)).toMatchObject({ reservations: 2, doubleHolds: 0, violations: [] });
  });

  it('answers 404 for unknown events and reservations, and changes nothing', async () => {
    const { api, app } = await setUp('transactional');
    // Writes that succeeded (a confirm of an unknown id is a conditional write, refused by its condition).
    let writes = 0;
    afterCalls(
      app.db,
      (call) => /^(Put|Update|Delete|BatchWrite)Item$|^TransactWriteItems$/.test(call.operation),
      () => {
        writes++;
      },
    );
    const unknownEvent = 'evt_AAAAAAAAAAAAAAAAAAAAAA';
    const unknownReservation = 'res_AAAAAAAAAAAAAAAAAAAAAA';
    const answers = await Promise.all([
      api.getEvent(unknownEvent),
      api.reserve(unknownEvent, { buyer: 'x', quantity: 1 }),
      api.getEvent('not-an-id'),
      api.getReservation(unknownReservation),
      api.confirm(unknownReservation),
      api.release(unknownReservation),
      api.getReservation('res_short'),
    ]);
    expect(answers.map((a) => [a.status, a.body.error])).toEqual([
      [404, 'event_not_found'],
      [404, 'event_not_found'],
      [404, 'event_not_found'],
      [404, 'reservation_not_found'],
      [404, 'reservation_not_found'],
      [404, 'reservation_not_found'],
      [404, 'reservation_not_found'],
    ]);
    expect(writes).toBe(0);
  });
});

describe.each(strategies)('%s: a reservation belongs to its buyer', (strategy) => {
  it("answers another buyer's get, confirm and release with 404, exactly as if it did not exist, and changes nothing", async () => {
    const { api, hold, available, app, event } = await setUp(strategy);
    const alices = await hold('alice', 2);
    const missing = await api.getReservation('res_AAAAAAAAAAAAAAAAAAAAAA', 'bob');
    const answers = await Promise.all([api.getReservation(alices, 'bob'), api.confirm(alices, 'bob'), api.release(alices, 'bob')]);
    for (const answer of answers) {
      expect([answer.status, answer.body.error]).toEqual([404, 'reservation_not_found']);
      expect(answer.body.message).toBe(missing.body.message.replace('res_AAAAAAAAAAAAAAAAAAAAAA', alices.reservationId));
    }
    expect((await api.getReservation(alices)).body).toMatchObject({ status: 'HELD', buyerId: 'alice', quantity: 2 });
    expect(await available()).toBe(8);
    // Alice can still act on it.
    expect((await api.confirm(alices)).body.status).toBe('CONFIRMED');
    expect((await api.release(alices, 'bob')).status).toBe(404);
    expect(await audit(app, event.eventId)).toMatchObject({ confirmed: 2, violations: [] });
  });
});
