import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface DownloadOptions {
  /** sent as a bearer token (Hugging Face gated or private repos) */
  authToken?: string;
  /** whole download limit */
  timeoutMs: number;
  /** limit for the server to answer at all (an offline host fails here, quickly) */
  connectTimeoutMs?: number;
  log: (message: string) => void;
  /** where a model that cannot be had is reported with its full path (the error body only says MODEL_DIR/…) */
  warn?: (message: string) => void;
  fetchImpl?: typeof fetch;
}

/**
 * Downloads url to path with progress logs; the file appears under its final name only when
 * complete (written to a unique .partial file, then renamed). Throws a plain Error saying why.
 */
export async function downloadFile(url: string, path: string, options: DownloadOptions): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.partial-${process.pid}-${Date.now()}`;
  const overall = AbortSignal.timeout(options.timeoutMs);
  const connect = AbortSignal.timeout(options.connectTimeoutMs ?? 20_000);
  const headers: Record<string, string> = {};
  if (options.authToken) headers.authorization = `Bearer ${options.authToken}`;
  const label = path.split('/').pop() ?? path;
  options.log(`downloading ${url} → ${path}`);
  let response: Response;
  try {
    response = await (options.fetchImpl ?? fetch)(url, { headers, signal: AbortSignal.any([overall, connect]) });
  } catch (error) {
    const cause = (error as Error).cause;
    throw new Error(`network: ${cause ? String(cause) : (error as Error).message}`);
  }
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  const total = Number(response.headers.get('content-length') ?? 0);
  let received = 0;
  let nextReport = 0.1;
  const started = Date.now();
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>, { signal: overall });
  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (total > 0 && received / total >= nextReport) {
      options.log(`${label}: ${Math.round((received / total) * 100)}% of ${(total / 1e6).toFixed(0)} MB (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      nextReport += 0.1;
    }
  });
  try {
    await pipeline(body, createWriteStream(partial));
    if (total > 0 && received !== total) throw new Error(`got ${received} of ${total} bytes`);
    renameSync(partial, path);
  } catch (error) {
    rmSync(partial, { force: true });
    throw new Error(`download failed: ${(error as Error).message}`);
  }
  options.log(`downloaded ${label} (${(received / 1e6).toFixed(1)} MB)`);
}
