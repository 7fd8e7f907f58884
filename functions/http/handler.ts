import type { Context } from 'aws-lambda';
import type { App } from '../app';
import { type HttpApiEvent, HttpRequest } from './request';
import { errorResponse, type HttpResult } from './responses';

export type LambdaHttpHandler = (event: HttpApiEvent, context?: Context) => Promise<HttpResult>;

/**
 * Wraps one route: the route parses input, calls the domain and shapes the answer; every
 * error, expected or not, becomes a response here, in one place. Each invocation's log lines
 * carry its Lambda request id, and its metrics are flushed once when it ends.
 */
export function httpHandler(app: App, route: (request: HttpRequest) => Promise<HttpResult>): LambdaHttpHandler {
  return async (event, context) => {
    if (context) app.log.addContext?.(context);
    const request = new HttpRequest(event);
    try {
      return await app.admission.run(() => route(request));
    } catch (error) {
      return errorResponse(error, app.log, request.requestId);
    } finally {
      app.telemetry.flush?.();
    }
  };
}
