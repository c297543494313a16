import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { OutboundRequestError, pinnedLookup } from './guarded-post';
import { CheckedTarget, OutboundPolicy } from './outbound-policy';

export interface DownloadLimits {
  /** until the TCP (and TLS) connection of each hop is up */
  connectTimeoutMs: number;
  /** the whole download: every hop, the headers and the last body byte */
  totalTimeoutMs: number;
  /** the longest wait for the next bytes (headers or body) while the reader wants them */
  stallTimeoutMs: number;
  /** body bytes at most; one more stops the download */
  maxBytes: number;
  /** redirects followed at most, each one re-checked by the policy */
  maxRedirects: number;
}

/** The final answer was not a 2xx (after the redirects): no body is read. */
export class OutboundHttpStatusError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'OutboundHttpStatusError';
  }
}

/** The body (or its announced Content-Length) passed maxBytes: the download was stopped there. */
export class OutboundTooLargeError extends Error {
  constructor(readonly maxBytes: number, message: string) {
    super(message);
    this.name = 'OutboundTooLargeError';
  }
}

/** A time limit ran out (total or stall); a network failure of its own kind. */
export class OutboundTimeoutError extends OutboundRequestError {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundTimeoutError';
  }
}

export interface OutboundDownload {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** the body, bounded by the limits; reading it to the end (or destroying it) ends the connection */
  body: Readable;
  /** the URL the body came from (after redirects) and its checked address */
  finalUrl: URL;
  address: string;
  redirects: number;
}

/** "scheme://host/path" of a URL: what logs and messages may show (a query may hold a signed URL's secret). */
export function redactedUrl(url: URL | string): string {
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * A streaming GET under the SSRF policy: every hop's URL is checked (scheme, resolved addresses)
 * and connected to at its checked address; up to maxRedirects redirects are followed, each one
 * checked again; the body is bounded in bytes, total time and stalls. Throws OutboundRefusedError
 * (policy, any hop), OutboundHttpStatusError (a final non-2xx), OutboundTooLargeError (announced
 * size), OutboundTimeoutError or OutboundRequestError; the body stream fails with the same errors.
 */
export async function guardedGet(policy: OutboundPolicy, rawUrl: string, limits: DownloadLimits, signal?: AbortSignal): Promise<OutboundDownload> {
  const deadline = Date.now() + limits.totalTimeoutMs;
  let target = await policy.check(rawUrl);
  for (let redirects = 0; ; redirects++) {
    const response = await requestHop(target, limits, deadline, signal);
    const location = response.headers.location;
    if (REDIRECT_STATUSES.has(response.statusCode ?? 0) && location) {
      response.destroy();
      if (redirects >= limits.maxRedirects) throw new OutboundRequestError(`more than ${limits.maxRedirects} redirects`);
      let next: URL;
      try {
        next = new URL(location, target.url);
      } catch {
        throw new OutboundRequestError(`a redirect to an invalid URL from ${redactedUrl(target.url)}`);
      }
      // the same rules as the first URL: a public host may redirect to an internal one
      target = await policy.check(next.href);
      continue;
    }
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      response.destroy();
      throw new OutboundHttpStatusError(status, `${redactedUrl(target.url)} answered HTTP ${status}`);
    }
    const announced = Number(response.headers['content-length']);
    if (Number.isFinite(announced) && announced > limits.maxBytes) {
      response.destroy();
      throw new OutboundTooLargeError(limits.maxBytes, `${redactedUrl(target.url)} announces ${announced} bytes, over the limit of ${limits.maxBytes}`);
    }
    return {
      status,
      headers: response.headers,
      body: Readable.from(boundedBody(response, limits, deadline, signal), { objectMode: false }),
      finalUrl: target.url,
      address: target.address,
      redirects,
    };
  }
}

/** One GET to a checked address; resolves with the response once its headers arrive. */
function requestHop(target: CheckedTarget, limits: DownloadLimits, deadline: number, signal?: AbortSignal): Promise<http.IncomingMessage> {
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (error: Error | undefined, response?: http.IncomingMessage) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        request.destroy();
        reject(error);
      } else resolve(response!);
    };
    const onAbort = () => finish(new OutboundRequestError('the download was aborted'));
    const request = client.request(target.url, {
      method: 'GET',
      // no pooled sockets: a kept-alive connection could outlive the check that allowed it
      agent: false,
      lookup: pinnedLookup(target),
      headers: { 'user-agent': 'transcription-service', accept: '*/*' },
    });
    const remaining = Math.max(0, deadline - Date.now());
    timers.push(setTimeout(() => finish(new OutboundTimeoutError(`no complete download within ${limits.totalTimeoutMs} ms`)), remaining));
    timers.push(setTimeout(() => finish(new OutboundTimeoutError(`no connection within ${limits.connectTimeoutMs} ms`)), limits.connectTimeoutMs));
    request.on('socket', (socket) => {
      const connected = () => {
        clearTimeout(timers[1]);
        // connected: the server now has stallTimeoutMs to start its answer
        timers.push(setTimeout(() => finish(new OutboundTimeoutError(`no answer within ${limits.stallTimeoutMs} ms`)), limits.stallTimeoutMs));
      };
      if (!socket.connecting) connected();
      else socket.once(target.url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
    });
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error) => finish(new OutboundRequestError(`${(error as NodeJS.ErrnoException).code ?? error.name}: ${error.message}`)));
    request.on('response', (response) => finish(undefined, response));
    request.end();
  });
}

/**
 * The body's chunks, stopped (connection destroyed) at maxBytes + 1, at the total deadline, when
 * the next chunk takes longer than stallTimeoutMs to arrive, or when the reader stops reading.
 * The stall clock runs only while the reader waits: a slow consumer is not the server's stall.
 */
async function* boundedBody(response: http.IncomingMessage, limits: DownloadLimits, deadline: number, signal?: AbortSignal): AsyncGenerator<Buffer> {
  let stallTimer: NodeJS.Timeout | undefined;
  const fail = (error: Error) => response.destroy(error);
  const totalTimer = setTimeout(() => fail(new OutboundTimeoutError(`no complete download within ${limits.totalTimeoutMs} ms`)), Math.max(0, deadline - Date.now()));
  const onAbort = () => fail(new OutboundRequestError('the download was aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  const armStall = () => {
    stallTimer = setTimeout(() => fail(new OutboundTimeoutError(`the download stalled: no bytes for ${limits.stallTimeoutMs} ms`)), limits.stallTimeoutMs);
  };
  let received = 0;
  try {
    armStall();
    for await (const chunk of response as AsyncIterable<Buffer>) {
      clearTimeout(stallTimer);
      received += chunk.length;
      if (received > limits.maxBytes) throw new OutboundTooLargeError(limits.maxBytes, `the body passed the limit of ${limits.maxBytes} bytes; the download was stopped`);
      yield chunk;
      armStall();
    }
    clearTimeout(stallTimer);
    if (!response.complete) throw new OutboundRequestError('the connection closed before the body ended');
  } catch (error) {
    if (error instanceof OutboundRequestError || error instanceof OutboundTooLargeError) throw error;
    throw new OutboundRequestError(`reading the body: ${(error as Error).message}`);
  } finally {
    clearTimeout(stallTimer);
    clearTimeout(totalTimer);
    signal?.removeEventListener('abort', onAbort);
    // a stopped download closes its connection now, not when the server finishes sending
    if (!response.complete) response.destroy();
    response.socket?.destroy();
  }
}
