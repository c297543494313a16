import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER, requestIdFrom, runWithLogContext } from '@app/logging';

/** Probes and scrapes come every few seconds: their lines at debug level, a failed one (503 while starting) at info. */
const QUIET_PATHS = /^\/(health(\/.*)?|metrics)$/;

/**
 * First middleware of the API: the request's id (the client's X-Request-Id when sane, else a UUID),
 * echoed in the response and on every line logged for the request; then one line when it ends
 * (method, path, status, duration). Headers, query strings and bodies are not logged.
 */
export function requestLogging(logger: Logger): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    const requestId = requestIdFrom(request.headers[REQUEST_ID_HEADER.toLowerCase()]);
    response.setHeader(REQUEST_ID_HEADER, requestId);
    const started = process.hrtime.bigint();
    // as it arrived: routers rewrite request.url on the way
    const { method, path } = request;
    response.once('close', () => {
      const status = response.statusCode;
      const fields = {
        request_id: requestId,
        method,
        path,
        status,
        duration_ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
        ...(response.writableFinished ? {} : { aborted: true }),
      };
      const quiet = QUIET_PATHS.test(path);
      const level = quiet ? (status < 400 ? 'debug' : 'info') : status >= 500 ? 'error' : 'info';
      logger[level](fields, `${method} ${path} ${status}${response.writableFinished ? '' : ' (client went away)'}`);
    });
    // multer's callback into the route keeps the context too (on-finished binds its listeners to it)
    runWithLogContext({ request_id: requestId }, next);
  };
}
