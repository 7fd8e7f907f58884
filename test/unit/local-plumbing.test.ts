import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, loadConfig } from '../../functions/config';
import { routes } from '../../lib/routes';
import { Router } from '../../local/router';
import { zipWithout } from '../../local/zip-without';

describe('local router', () => {
  const router = new Router(routes);

  it('matches every route in the table with its path parameters', () => {
    expect(router.match('POST', '/events')?.route.id).toBe('CreateEvent');
    expect(router.match('GET', '/events/evt_1')).toMatchObject({ route: { id: 'GetEvent' }, pathParameters: { eventId: 'evt_1' } });
    expect(router.match('POST', '/events/evt_1/reservations')?.route.id).toBe('ReserveTickets');
    expect(router.match('POST', '/reservations/res_1/confirm')).toMatchObject({ pathParameters: { reservationId: 'res_1' } });
    expect(router.match('DELETE', '/reservations/res_1')?.route.id).toBe('ReleaseReservation');
  });

  it('does not match other methods or deeper paths', () => {
    expect(router.match('PUT', '/events')).toBeUndefined();
    expect(router.match('GET', '/events/evt_1/extra')).toBeUndefined();
    expect(router.match('GET', '/events/')).toBeUndefined();
  });

  it('decodes path parameters, and calls broken percent-encoding a bad request', () => {
    expect(router.match('GET', '/events/a%20b')?.pathParameters).toEqual({ eventId: 'a b' });
    for (const broken of ['/reservations/%E0%A4%A', '/reservations/%']) {
      expect(() => router.match('GET', broken)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    }
  });
});

describe('configuration', () => {
  it('reads the environment once, with local defaults when an endpoint is set', () => {
    expect(loadConfig({ TABLE_NAME: 'tickets', DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' })).toEqual({
      tableName: 'tickets',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:8000',
      allowUnsafe: false,
      maxSockets: 64,
      maxConcurrentRequests: 64,
      maxQueuedRequests: 20_000,
      maxQueueWaitMs: 5_000,
      holdBudgetMs: 6_000,
      repairMarginMs: 30_000,
      soldOutStalenessMs: 1_000,
      lockLeaseMs: 2_000,
      queueWaitMs: 1_000,
      queueDecisionTimeoutMs: 300_000,
      maxTransactionItems: 10,
      emitMetrics: false,
      groupsClaim: 'cognito:groups',
      organizerGroup: 'organizers',
    });
    expect(loadConfig({ TABLE_NAME: 'tickets', AWS_REGION: 'eu-west-1' })).toMatchObject({ endpoint: undefined, maxTransactionItems: 100 });
  });

  it('fails at cold start naming every bad variable', () => {
    expect(() => loadConfig({ STAMPEDE_ALLOW_UNSAFE: 'yes', STAMPEDE_MAX_SOCKETS: '-1' })).toThrow(ConfigurationError);
    expect(() => loadConfig({ STAMPEDE_ALLOW_UNSAFE: 'yes' })).toThrow(/TABLE_NAME.*AWS_REGION.*STAMPEDE_ALLOW_UNSAFE/);
    expect(() => loadConfig({ TABLE_NAME: 't', STAMPEDE_LOCK_LEASE_MS: '6000' })).toThrow(/STAMPEDE_LOCK_LEASE_MS must be less than STAMPEDE_HOLD_BUDGET_MS/);
    expect(() => loadConfig({ TABLE_NAME: 't', STAMPEDE_QUEUE_WAIT_MS: '-1' })).toThrow(/STAMPEDE_QUEUE_WAIT_MS/);
  });
});

describe('zipWithout (log4j JndiLookup removal)', () => {
  it('drops exactly the named entries and keeps a valid archive', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zip-'));
    writeFileSync(join(dir, 'keep.txt'), 'keep me');
    writeFileSync(join(dir, 'drop.class'), 'drop me');
    execFileSync('zip', ['-q', 'a.zip', 'keep.txt', 'drop.class'], { cwd: dir });
    const { archive, removedCount } = zipWithout(readFileSync(join(dir, 'a.zip')), new Set(['drop.class']));
    writeFileSync(join(dir, 'b.zip'), archive);
    expect(removedCount).toBe(1);
    expect(execFileSync('unzip', ['-Z1', 'b.zip'], { cwd: dir }).toString().trim()).toBe('keep.txt');
    expect(execFileSync('unzip', ['-p', 'b.zip', 'keep.txt'], { cwd: dir }).toString()).toBe('keep me');
  });
});
