import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

/** The part of a logger the application uses; Powertools Logger satisfies it. */
export interface Log {
  error(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  info(message: string, ...extra: unknown[]): void;
  /** Put the invocation's Lambda request id (and cold start, function name) on every line. */
  addContext?(context: Context): void;
}

/**
 * Structured JSON logs with the request id on every line. The level comes from
 * POWERTOOLS_LOG_LEVEL / LOG_LEVEL (default INFO); tests set SILENT.
 */
export function createLogger(): Logger {
  return new Logger({ serviceName: 'stampede' });
}
