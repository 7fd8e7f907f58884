import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../functions/app';
import { loadConfig } from '../../functions/config';
import type { Telemetry } from '../../functions/domain/ports';
import { httpHandler } from '../../functions/http/handler';
import { json } from '../../functions/http/responses';
import type { Log } from '../../functions/observability/log';
import { PowertoolsTelemetry } from '../../functions/observability/powertools-telemetry';
import { PowertoolsSweepMetrics } from '../../functions/observability/sweep-metrics';
import { InMemoryTelemetry } from '../../functions/observability/telemetry';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/**
 * EMF documents the telemetry prints, parsed. POWERTOOLS_DEV makes Powertools print with the
 * global console (which the test can watch) but also turns metrics off, unless
 * POWERTOOLS_METRICS_DISABLED says otherwise.
 */
function captureEmf(): { telemetry: PowertoolsTelemetry; printed: () => Record<string, any>[] } {
  vi.stubEnv('POWERTOOLS_DEV', 'true');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'Stampede/unit');
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const telemetry = new PowertoolsTelemetry(new Metrics({ serviceName: 'stampede' }));
  return { telemetry, printed: () => log.mock.calls.map(([line]) => JSON.parse(String(line))) };
}

describe('PowertoolsTelemetry', () => {
  it('writes one EMF document per strategy on flush, with the counts summed and the strategy as a dimension', () => {
    const { telemetry, printed } = captureEmf();
    telemetry.count('ReservationCreated', 'sharded');
    telemetry.count('Conflict', 'sharded', 2);
    telemetry.count('Conflict', 'sharded');
    telemetry.count('SoldOut', 'transactional');
    expect(printed()).toEqual([]);

    telemetry.flush();
    const documents = printed();
    expect(documents).toHaveLength(2);
    const sharded = documents.find((document) => document.strategy === 'sharded')!;
    expect(sharded).toMatchObject({ service: 'stampede', ReservationCreated: 1, Conflict: 3 });
    expect(sharded._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Stampede/unit',
        Dimensions: [['service', 'strategy']],
        Metrics: [
          { Name: 'ReservationCreated', Unit: 'Count' },
          { Name: 'Conflict', Unit: 'Count' },
        ],
      },
    ]);
    expect(documents.find((document) => document.strategy === 'transactional')).toMatchObject({ SoldOut: 1 });
    expect(documents.find((document) => document.strategy === 'transactional')!.Conflict).toBeUndefined();
  });

  it('prints nothing, not even a warning, when nothing was counted, and never counts twice', () => {
    const { telemetry, printed } = captureEmf();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    telemetry.flush();
    telemetry.count('Retry', 'optimistic');
    telemetry.flush();
    telemetry.flush();
    expect(printed()).toHaveLength(1);
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('the telemetry an app uses', () => {
  const env = { TABLE_NAME: 'stampede-unit', AWS_REGION: 'us-east-1' };

  it('is Powertools (EMF) only when STAMPEDE_METRICS is set, as on the deployed functions', () => {
    expect(createApp({ config: loadConfig({ ...env, STAMPEDE_METRICS: '1' }) }).telemetry).toBeInstanceOf(PowertoolsTelemetry);
  });

  it('is in memory otherwise: the local server and the tests print no EMF', () => {
    expect(createApp({ config: loadConfig(env) }).telemetry).toBeInstanceOf(InMemoryTelemetry);
    expect(() => loadConfig({ ...env, STAMPEDE_METRICS: 'yes' })).toThrow(/STAMPEDE_METRICS must be 1\/true or 0\/false/);
  });
});

describe('the HTTP handler', () => {
  const event = { requestContext: { requestId: 'api-request-1' }, headers: {} } as unknown as APIGatewayProxyEventV2;
  const context = { awsRequestId: 'lambda-request-1', functionName: 'stampede-test' } as Context;

  function observedApp() {
    const flush = vi.fn();
    const addContext = vi.fn();
    const telemetry: Telemetry = { count: () => undefined, flush };
    const log: Log = { error: () => undefined, warn: () => undefined, info: () => undefined, addContext };
    return { app: createApp({ config: loadConfig(), telemetry, log }), flush, addContext };
  }

  it('puts the Lambda request id on the log lines and flushes metrics once per invocation', async () => {
    const { app, flush, addContext } = observedApp();
    const handler = httpHandler(app, async () => {
      expect(flush).not.toHaveBeenCalled();
      return json(200, { ok: true });
    });
    expect((await handler(event, context)).statusCode).toBe(200);
    expect(addContext).toHaveBeenCalledExactlyOnceWith(context);
    expect(flush).toHaveBeenCalledOnce();
  });

  it('flushes metrics even when the route fails', async () => {
    const { app, flush } = observedApp();
    const handler = httpHandler(app, async () => {
      throw new Error('boom');
    });
    expect((await handler(event, context)).statusCode).toBe(500);
    expect(flush).toHaveBeenCalledOnce();
  });
});

describe('PowertoolsSweepMetrics', () => {
  const report = { due: 3, expired: 2, ticketsReturned: 3, repaired: 0, rejected: 0, lagsMs: [1_200, 800], oldestDueMs: 1_500, startedAt: 0, tookMs: 90 };
  const sweepDocuments = () => {
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'Stampede/unit');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    return {
      metrics: new PowertoolsSweepMetrics(new Metrics({ serviceName: 'stampede' })),
      printed: () => log.mock.calls.map(([line]) => JSON.parse(String(line))),
    };
  };

  it('publishes the oldest due age on every complete sweep, 0 included, for the overdue alarm', () => {
    const { metrics, printed } = sweepDocuments();
    metrics.record({ ...report, failed: 0 });
    metrics.record({ ...report, due: 0, expired: 0, ticketsReturned: 0, lagsMs: [], oldestDueMs: 0, failed: 0 });
    expect(printed().map((document) => document.OldestDueAge)).toEqual([1_500, 0]);
    expect(printed()[0]).toMatchObject({ HoldsExpired: 2, TicketsReturnedByExpiry: 3, SweepLag: [1_200, 800] });
  });

  it('leaves the oldest due age out of a sweep that could not read all of the index, so the alarm sees missing data, not a healthy 0', () => {
    const { metrics, printed } = sweepDocuments();
    metrics.record({ ...report, oldestDueMs: 0, failed: 1 });
    const [document] = printed();
    expect(document).not.toHaveProperty('OldestDueAge');
    expect(document).toMatchObject({ HoldsExpired: 2, TicketsReturnedByExpiry: 3 });
  });
});
