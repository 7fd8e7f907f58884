import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { BooksStillChanging } from '../../functions/audit/audit-event';
import { createDocumentClient } from '../../functions/data/dynamodb-client';
import { addToBuyerTally, buyerTallyKey, subtractFromBuyerTally } from '../../functions/data/items/buyer-tally-item';
import { inventoryKey } from '../../functions/data/items/inventory-item';
import { reservationKey } from '../../functions/data/items/reservation-item';
import { ManualClock } from '../../functions/domain/clock';
import { inProcessApi, stampede } from '../support/api';
import { audit } from '../support/audit';
import { beforeCalls } from '../support/faults';
import { testApp } from '../support/test-app';

/**
 * The audit is what proves a rush sold exactly what exists, so each of its detectors is shown
 * firing: a clean sale is audited, then the table is corrupted the way a bug would, one kind of
 * damage per test, and the audit must name it.
 */
const holdSeconds = 60;

async function sale(config: Parameters<typeof testApp>[0] = {}) {
  const clock = new ManualClock(Date.UTC(2026, 11, 6, 12));
  const app = testApp({ clock, ...config });
  const api = stampede(inProcessApi(app));
  const { body: event } = await api.createEvent({ name: 'Audited', capacity: 10, shards: 2, holdSeconds, maxPerBuyer: 4 });
  const alice = (await api.reserve(event.eventId, { buyer: 'alice', quantity: 2 }, `alice-${randomUUID()}`)).body;
  const bob = (await api.reserve(event.eventId, { buyer: 'bob', quantity: 1 })).body;
  expect([alice.status, bob.status]).toEqual(['HELD', 'HELD']);
  const table = app.config.tableName;
  const itemOf = async (id: string) => (await app.db.send(new GetCommand({ TableName: table, Key: reservationKey(id), ConsistentRead: true }))).Item!;
  const update = (Key: Record<string, string>, UpdateExpression: string, values: Record<string, unknown>) =>
    app.db.send(new UpdateCommand({ TableName: table, Key, UpdateExpression, ExpressionAttributeValues: values }));
  const put = (Item: Record<string, unknown>) => app.db.send(new PutCommand({ TableName: table, Item }));
  /** A shard alice's hold took tickets from. */
  const aliceShard = Number(Object.keys((await itemOf(alice.reservationId)).takes)[0]);
  const kinds = async (options = {}) => (await audit(app, event.eventId, options)).violations.map((violation) => violation.kind).sort();
  /** A stepwise hold left half-way for `buyerId`, shaped like alice's hold (its takes planned, none taken). */
  const plantPending = async (buyerId: string, stage: 'claimed' | 'tallied', fields: Record<string, unknown> = {}) => {
    const { idempotencyKey: _key, ...rest } = await itemOf(alice.reservationId);
    const reservationId = `res_pending_${randomUUID()}`;
    const item = { ...rest, ...reservationKey(reservationId), reservationId, buyerId, status: 'PENDING', stage, claimId: randomUUID(), ...fields };
    // A field given as undefined is left out (a reservation without it).
    await put(Object.fromEntries(Object.entries(item).filter(([, value]) => value !== undefined)));
  };
  return { app, api, clock, event, alice, bob, itemOf, update, put, aliceShard, kinds, plantPending };
}

describe('the audit', () => {
  it('finds nothing wrong with a clean sale', async () => {
    const { kinds } = await sale();
    expect(await kinds()).toEqual([]);
  });

  it('finds tickets taken from a shard that no reservation accounts for (lost)', async () => {
    const { event, update, aliceShard, kinds } = await sale();
    await update(inventoryKey(event.eventId, aliceShard), 'ADD available :minus, version :one', { ':minus': -1, ':one': 1 });
    expect(await kinds()).toEqual(['lost_tickets', 'shard_mismatch']);
  });

  it('finds a ticket given back twice (on sale, but it never existed)', async () => {
    const { event, update, aliceShard, kinds } = await sale();
    await update(inventoryKey(event.eventId, aliceShard), 'ADD available :plus, version :one', { ':plus': 1, ':one': 1 });
    expect(await kinds()).toEqual(['inventory_inflated', 'shard_mismatch']);
  });

  it('counts tickets handed out beyond capacity apart from tickets still on sale that never existed', async () => {
    const { app, event, bob, itemOf, put, kinds } = await sale();
    // Eight more confirmed tickets, as lost updates would hand out, while the inventory still shows 7.
    const bobs = await itemOf(bob.reservationId);
    for (let i = 0; i < 8; i++) {
      const id = `res_extra_${randomUUID()}`;
      await put({ ...bobs, ...reservationKey(id), reservationId: id, status: 'CONFIRMED' });
    }
    const report = await audit(app, event.eventId);
    expect(report).toMatchObject({ capacity: 10, sold: 11, remaining: 7, oversold: 1, inflated: 7 });
    expect(await kinds()).toEqual(expect.arrayContaining(['oversold', 'inventory_inflated']));
  });

  it('finds a buyer tally that disagrees with the buyer’s reservations', async () => {
    const { event, update, kinds } = await sale();
    await update(buyerTallyKey(event.eventId, 'alice'), 'ADD tickets :one', { ':one': 1 });
    expect(await kinds()).toEqual(['tally_mismatch']);
  });

  it('finds a tally given back for a buyer who had none (the subtraction leaves an item its scan sees)', async () => {
    const { app, event, kinds } = await sale();
    await app.db.send(new UpdateCommand(subtractFromBuyerTally(app.config.tableName, event.eventId, 'zed', 1)));
    expect(await kinds()).toEqual(['tally_mismatch']);
  });

  it('finds a hold still HELD two sweeps after it expired', async () => {
    const { clock, kinds } = await sale();
    clock.advance(holdSeconds * 1000 + 2 * 3_000 + 1);
    expect(await kinds({ sweepIntervalMs: 3_000 })).toEqual(['unswept_expired_hold', 'unswept_expired_hold']);
  });

  it('finds an interrupted hold past budget + margin by its age, even when its own repair time says later', async () => {
    const { app, clock, kinds, plantPending } = await sale();
    // A PENDING claim (no tickets taken, no tally yet) whose repair time a bug wrote a day late.
    await plantPending('carol', 'claimed', { sweepAt: clock.now() + 86_400_000 });
    expect(await kinds()).toEqual([]); // not due yet by either clock

    clock.advance(app.config.holdBudgetMs + app.config.repairMarginMs);
    expect(await kinds({ repairAfterMs: undefined })).toEqual([]); // its own repair time alone would hide it
    expect(await kinds()).toEqual(['pending_hold']);
  });

  it('counts a stepwise hold half-way at stage `tallied` in its buyer’s tally: no mismatch, and only `pending_hold` once it is due', async () => {
    const { app, clock, event, kinds, plantPending } = await sale();
    // Step 2 done (carol's tally counts the 2 it plans to take from alice's shard), the take not yet: no tickets taken.
    await plantPending('carol', 'tallied', { sweepAt: clock.now() + 36_000 });
    await app.db.send(new UpdateCommand(addToBuyerTally(app.config.tableName, event.eventId, 'carol', 2, event.maxPerBuyer)));
    const report = await audit(app, event.eventId);
    expect([report.violations, report.pendingNotYetDue]).toEqual([[], 1]);

    clock.advance(app.config.holdBudgetMs + app.config.repairMarginMs);
    expect(await kinds()).toEqual(['pending_hold']);
  });

  it('fails closed on a PENDING reservation without a repair time (it has left the sweep index)', async () => {
    const { kinds, plantPending } = await sale();
    await plantPending('dan', 'claimed', { sweepAt: undefined });
    expect(await kinds({ repairAfterMs: undefined })).toEqual(['pending_hold']);
  });

  it('finds a queued request nobody decided past its decision timeout, by its age too', async () => {
    const { app, api, clock, update, kinds } = await sale({ config: { queueWaitMs: 0 } });
    const { body: queuedEvent } = await api.createEvent({ name: 'Audited, queued', capacity: 5, strategy: 'queued', shards: 1 });
    const request = (await api.reserve(queuedEvent.eventId, { buyer: 'erin', quantity: 1 })).body;
    expect(request.status).toBe('QUEUED'); // no consumer runs in this test
    await update(reservationKey(request.reservationId), 'SET sweepAt = :late', { ':late': clock.now() + 86_400_000 });
    const queuedKinds = async (options = {}) => (await audit(app, queuedEvent.eventId, options)).violations.map((violation) => violation.kind);
    expect(await queuedKinds()).toEqual([]);

    clock.advance(app.config.queueDecisionTimeoutMs);
    expect(await queuedKinds({ decideWithinMs: undefined })).toEqual([]);
    expect(await queuedKinds()).toEqual(['undecided_request']);
    expect(await kinds()).toEqual([]); // the first event is untouched
  });

  it('finds two reservations from one buyer’s Idempotency-Key', async () => {
    const { alice, itemOf, put, kinds } = await sale();
    const copyId = `res_copy_${randomUUID()}`;
    const copy = { ...(await itemOf(alice.reservationId)), ...reservationKey(copyId), reservationId: copyId };
    await put(copy);
    expect(await kinds()).toEqual(expect.arrayContaining(['double_hold', 'inventory_inflated']));
  });

  it('fails closed on a reservation with a broken number', async () => {
    const { alice, update, kinds } = await sale();
    // Its expiry unreadable: nothing else would notice (its quantity and takes still agree).
    await update(reservationKey(alice.reservationId), 'SET expiresAt = :broken', { ':broken': 'soon' });
    expect(await kinds()).toEqual(['malformed_reservation']);
  });

  it('reads the books again when the inventory changes while it scans, so nothing is counted in two places', async () => {
    const { app, event, bob, kinds } = await sale();
    const db = createDocumentClient(app.config);
    let scans = 0;
    let released = false;
    // The first scan sees bob's HELD hold; before the audit reads the shards again, bob releases it.
    beforeCalls(
      db,
      (call) => call.operation === 'Scan',
      async () => {
        scans++;
        if (released) return;
        released = true;
        expect((await stampede(inProcessApi(app)).release(bob)).body.status).toBe('RELEASED');
      },
    );
    const report = await audit({ ...app, db }, event.eventId);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({ held: 2, released: 1, remaining: 8 });
    expect(scans).toBeGreaterThan(4); // 4 segments, then all 4 again
    expect(await kinds()).toEqual([]);
  });

  it('refuses, by a BooksStillChanging error, books that change under every read of them', async () => {
    const { app, event, aliceShard, kinds } = await sale();
    const db = createDocumentClient(app.config);
    // Every scan, a write lands on a shard: no two reads of the shards agree.
    beforeCalls(
      db,
      (call) => call.operation === 'Scan',
      async () => {
        await app.db.send(
          new UpdateCommand({
            TableName: app.config.tableName,
            Key: inventoryKey(event.eventId, aliceShard),
            UpdateExpression: 'ADD version :one',
            ExpressionAttributeValues: { ':one': 1 },
          }),
        );
      },
    );
    await expect(audit({ ...app, db }, event.eventId)).rejects.toBeInstanceOf(BooksStillChanging);
    expect(await kinds()).toEqual([]); // once quiet, the same books audit clean
  });
});
