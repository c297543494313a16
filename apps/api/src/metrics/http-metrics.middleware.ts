import type { NextFunction, Request, Response } from 'express';
import { CLIENT_CLOSED_STATUS, UNMATCHED_ROUTE } from '@app/contracts';
import { ApiMetrics } from './api-metrics';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The route pattern Express matched (`/jobs/:id`), never the raw URL, so the label stays bounded.
 * Requests no route took (404s, refusals by the body and timeout checks that run before routing)
 * share one value.
 */
export function routeLabel(request: Request): string {
  const path: unknown = request.route?.path;
  return typeof path === 'string' ? `${request.baseUrl ?? ''}${path}` : UNMATCHED_ROUTE;
}

/**
 * Express middleware, installed first (main.ts) so it also sees requests refused before routing:
 * counts and times every request when its connection is done with it.
 */
export function httpMetricsMiddleware(metrics: ApiMetrics) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    response.once('close', () => {
      const labels = {
        method: METHODS.has(request.method) ? request.method : 'OTHER',
        route: routeLabel(request),
        // 'close' without 'finish': the client went away before the answer was complete
        status: response.writableFinished ? String(response.statusCode) : CLIENT_CLOSED_STATUS,
      };
      metrics.httpRequests.inc(labels);
      metrics.httpRequestDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
