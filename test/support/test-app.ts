import { type App, type AppOptions, createApp } from '../../functions/app';
import { loadConfig, type StampedeConfig } from '../../functions/config';
import { createDocumentClient } from '../../functions/data/dynamodb-client';
import type { Log } from '../../functions/observability/log';
import { InMemoryTelemetry } from '../../functions/observability/telemetry';

export interface TestAppOptions extends Omit<Partial<AppOptions>, 'config'> {
  readonly config?: Partial<StampedeConfig>;
}

export interface TestApp extends App {
  readonly telemetry: InMemoryTelemetry;
  readonly logged: unknown[][];
}

/** An app on the test's DynamoDB Local, with any seam replaced; logs are captured, not printed. */
export function testApp(options: TestAppOptions = {}): TestApp {
  const config: StampedeConfig = { ...loadConfig(), ...options.config };
  const db = options.db ?? createDocumentClient(config);
  const telemetry = new InMemoryTelemetry();
  const logged: unknown[][] = [];
  const log: Log = {
    error: (...args) => logged.push(['error', ...args]),
    warn: (...args) => logged.push(['warn', ...args]),
    info: (...args) => logged.push(['info', ...args]),
  };
  const app = createApp({ log, telemetry, ...options, config, db });
  return { ...app, telemetry, logged };
}

export const noSleep = async () => undefined;
