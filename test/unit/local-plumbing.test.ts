import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, loadConfig } from '../../functions/config';
import type { HttpApiEvent } from '../../functions/http/request';
import { routes } from '../../lib/routes';
import { createLocalApi } from '../../local/http-server';
import type { JwtAuthorizer } from '../../local/jwt-authorizer';
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

  it('decodes path parameters, and passes broken percent-encoding on as it came (no id looks like it: 404)', () => {
    expect(router.match('GET', '/events/a%20b')?.pathParameters).toEqual({ eventId: 'a b' });
    for (const [broken, id] of [
      ['/reservations/%E0%A4%A', '%E0%A4%A'],
      ['/reservations/%', '%'],
    ]) {
      expect(router.match('GET', broken!)?.pathParameters).toEqual({ reservationId: id });
    }
  });
});

describe('the local stand-in for API Gateway', () => {
  const silentLog = { error: () => undefined, warn: () => undefined, info: () => undefined };
  it('hands the function headers, cookies and query parameters as HTTP API payload 2.0 does', async () => {
    const getEvent = routes.find((route) => route.id === 'GetEvent')!;
    const seen: HttpApiEvent[] = [];
    const handler = async (event: HttpApiEvent) => {
      seen.push(event);
      return { statusCode: 200, body: '{}' };
    };
    const server = createLocalApi([getEvent], new Map([[getEvent, handler as never]]), { authorizer: {} as JwtAuthorizer, log: silentLog });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const raw = [
      'GET /events/evt_1?seat=A&seat=B&x=1 HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      'Idempotency-Key: a',
      'Idempotency-Key: b',
      'X-Custom: one',
      'x-custom: two',
      'Cookie: theme=dark; lang=en',
      'Cookie: seen=1',
      'Connection: close',
      '',
      '',
    ].join('\r\n');
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(port, '127.0.0.1', () => socket.end(raw));
      socket
        .on('data', (chunk) => (text += chunk))
        .on('end', () => resolve(text))
        .on('error', reject);
    });
    await new Promise((resolve) => server.close(resolve));

    expect(answer).toMatch(/^HTTP\/1.1 200/);
    const [event] = seen;
    expect(event!.headers['idempotency-key']).toBe('a,b'); // a bare comma, as API Gateway joins them (Node's own join adds a space)
    expect(event!.headers['x-custom']).toBe('one,two');
    expect(event!.headers).not.toHaveProperty('cookie');
    expect(event!.cookies).toEqual(['theme=dark', 'lang=en', 'seen=1']);
    expect(event!.rawQueryString).toBe('seat=A&seat=B&x=1');
    expect(event!.queryStringParameters).toEqual({ seat: 'A,B', x: '1' });
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
