import type { Context } from 'aws-lambda';
import type { App } from '../app';
import type { Lane } from '../domain/concurrency-limiter';
import { type HttpApiEvent, HttpRequest } from './request';
import { errorResponse, type HttpResult } from './responses';

export type LambdaHttpHandler = (event: HttpApiEvent, context?: Context) => Promise<HttpResult>;

/**
 * Wraps one route: the route parses input, calls the domain and shapes the answer; every
 * error, expected or not, becomes a response here, in one place. Each invocation's log lines
 * carry its Lambda request id, and its metrics are flushed once when it ends. `lane`: whether the
 * route finishes a buyer's purchase (served first when the local server is saturated, see Lane).
 */
export function httpHandler(app: App, route: (request: HttpRequest) => Promise<HttpResult>, lane: Lane = 'starting'): LambdaHttpHandler {
  return async (event, context) => {
    if (context) app.log.addContext?.(context);
    const request = new HttpRequest(event);
    try {
      return await app.admission.run(() => route(request), lane);
    } catch (error) {
      return errorResponse(error, app.log, request.requestId);
    } finally {
      app.telemetry.flush?.();
    }
  };
}
