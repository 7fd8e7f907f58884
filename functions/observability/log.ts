import { Logger } from '@aws-lambda-powertools/logger';

/** The part of a logger the application uses; Powertools Logger satisfies it. */
export interface Log {
  error(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  info(message: string, ...extra: unknown[]): void;
}

/**
 * Structured JSON logs with the request id on every line. The level comes from
 * POWERTOOLS_LOG_LEVEL / LOG_LEVEL (default INFO); tests set SILENT.
 */
export function createLogger(): Logger {
  return new Logger({ serviceName: 'stampede' });
}
