import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { CheckedTarget, OutboundPolicy } from './outbound-policy';

export interface OutboundLimits {
  /** until the TCP (and TLS) connection is up */
  connectTimeoutMs: number;
  /** the whole exchange: connect, send, status and the bounded body read */
  totalTimeoutMs: number;
  /** response bytes read at most; the rest is dropped (a receiver's answer is only logged) */
  maxResponseBytes: number;
}

export const DEFAULT_OUTBOUND_LIMITS: OutboundLimits = { connectTimeoutMs: 5_000, totalTimeoutMs: 15_000, maxResponseBytes: 64 * 1024 };

export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** the first maxResponseBytes of the body, as text */
  body: string;
  /** the body was longer than maxResponseBytes */
  truncated: boolean;
  /** the address the request went to */
  address: string;
}

/** A network-level failure (connection refused, timeout, TLS): no HTTP status came back. */
export class OutboundRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRequestError';
  }
}

/** Hands Node's socket the checked address instead of resolving the name again (no DNS rebinding window). */
export function pinnedLookup(target: CheckedTarget): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as unknown as LookupFunction;
}

/**
 * POST to a URL under the SSRF policy: the host is resolved and checked now, the connection goes
 * to the checked address (TLS still verifies the certificate for the URL's host name), redirects
 * are not followed (a 3xx is returned as it is), and time and response size are bounded.
 * Throws OutboundRefusedError (policy) or OutboundRequestError (network); any HTTP status returns.
 */
export async function guardedPost(
  policy: OutboundPolicy,
  rawUrl: string,
  body: string | Buffer,
  headers: Record<string, string>,
  limits: OutboundLimits = DEFAULT_OUTBOUND_LIMITS,
): Promise<OutboundResponse> {
  const target = await policy.check(rawUrl);
  return postToTarget(target, body, headers, limits);
}

export function postToTarget(target: CheckedTarget, body: string | Buffer, headers: Record<string, string>, limits: OutboundLimits): Promise<OutboundResponse> {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise<OutboundResponse>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, response?: OutboundResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(totalTimer);
      clearTimeout(connectTimer);
      if (error) {
        request.destroy();
        reject(error);
      } else resolve(response!);
    };
    const request = client.request(target.url, {
      method: 'POST',
      // no pooled sockets: a kept-alive connection could outlive the check that allowed it
      agent: false,
      lookup: pinnedLookup(target),
      headers: { 'content-type': 'application/json', 'content-length': String(payload.length), 'user-agent': 'transcription-service', ...headers },
    });
    const totalTimer = setTimeout(() => finish(new OutboundRequestError(`no complete answer within ${limits.totalTimeoutMs} ms`)), limits.totalTimeoutMs);
    const connectTimer = setTimeout(() => finish(new OutboundRequestError(`no connection within ${limits.connectTimeoutMs} ms`)), limits.connectTimeoutMs);
    request.on('socket', (socket) => {
      const connected = () => clearTimeout(connectTimer);
      if (!socket.connecting) connected();
      socket.once(target.url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
    });
    request.on('error', (error) => finish(new OutboundRequestError(`${(error as NodeJS.ErrnoException).code ?? error.name}: ${error.message}`)));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let received = 0;
      let truncated = false;
      const done = () =>
        finish(undefined, {
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          truncated,
          address: target.address,
        });
      response.on('data', (chunk: Buffer) => {
        if (truncated) return;
        const room = limits.maxResponseBytes - received;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          truncated = true;
          // enough read: the status is what counts; stop the download
          done();
          response.destroy();
          return;
        }
        chunks.push(chunk);
        received += chunk.length;
      });
      response.on('end', done);
      // after 'end' or a truncation this is a no-op; before, the receiver hung up mid-body
      response.on('close', () => finish(new OutboundRequestError('the connection closed before the response ended')));
      response.on('error', (error) => finish(new OutboundRequestError(`reading the response: ${error.message}`)));
    });
    request.end(payload);
  });
}
