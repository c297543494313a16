import type { NextFunction, Request, Response } from 'express';
import { ErrorCode } from '@app/contracts';
import { sendError, sendErrorAndClose } from './raw-error';

type Middleware = (request: Request, response: Response, next: NextFunction) => void;

/** Every response: no MIME sniffing, and nothing (transcripts, job views) kept by caches. */
export const securityHeaders: Middleware = (_request, response, next) => {
  response.set('X-Content-Type-Options', 'nosniff');
  response.set('Cache-Control', 'no-store');
  next();
};

function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isMultipart(request: Request): boolean {
  return /^multipart\/form-data\s*(;|$)/i.test(request.headers['content-type'] ?? '');
}

/** A refused body is read and dropped up to this size (so the client sees the answer, not EPIPE); past it the connection is cut. */
const DISCARD_LIMIT_BYTES = 8 * 1024 * 1024;

/** Refuses a request whose body we will not parse: the body is drained unparsed, never inflated. */
function refuseBody(request: Request, response: Response, message: string): void {
  let drained = 0;
  request.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DISCARD_LIMIT_BYTES) request.socket.destroy();
  });
  sendError(response, ErrorCode.UnsupportedMediaType, message);
}

/**
 * The API takes multipart uploads and nothing else: any other body is refused with 415 and never
 * parsed, so no JSON, urlencoded or compressed body can reach a parser or an inflater.
 */
export const multipartBodiesOnly: Middleware = (request, response, next) => {
  if (!hasBody(request)) return next();
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') return refuseBody(request, response, `compressed request bodies are not accepted (Content-Encoding: ${encoding})`);
  if (isMultipart(request)) return next();
  refuseBody(request, response, `request bodies must be multipart/form-data (got ${JSON.stringify(request.headers['content-type'] ?? 'no Content-Type')})`);
};

/**
 * A client that stops sending its body for `idleMs` gets 408 and its connection is closed; the
 * partial upload is dropped with it (it only ever lived in this request's memory).
 */
export function uploadIdleTimeout(idleMs: number): Middleware {
  return (request, response, next) => {
    if (!hasBody(request)) return next();
    request.setTimeout(idleMs, () => {
      if (request.complete) return;
      sendErrorAndClose(response, ErrorCode.RequestTimeout, `the upload sent nothing for ${idleMs / 1000} s (UPLOAD_IDLE_TIMEOUT_S)`);
      // the client is not reading either, perhaps: do not wait for the answer to flush
      setTimeout(() => request.socket.destroy(), 1_000).unref();
    });
    // once the body is in, the request may legitimately wait minutes for its transcript
    request.once('end', () => request.setTimeout(0));
    next();
  };
}
