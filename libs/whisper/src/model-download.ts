import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, ServiceError } from '@app/contracts';
import { WhisperModelSpec } from './model-registry';

export interface DownloadOptions {
  hfAuthToken?: string;
  /** whole download limit */
  timeoutMs: number;
  /** limit for the server to answer at all (an offline host fails here, quickly) */
  connectTimeoutMs?: number;
  log: (message: string) => void;
  fetchImpl?: typeof fetch;
}

function unavailable(spec: WhisperModelSpec, why: string): ServiceError {
  return new ServiceError(
    ErrorCode.ModelUnavailable,
    `model "${spec.name}" is not in MODEL_DIR and could not be downloaded (${why}); place ${spec.fileName} at ${spec.path}`,
    'whisper_model',
  );
}

/** Makes sure the model file exists, downloading official models with an atomic rename. */
export async function ensureWhisperModelFile(spec: WhisperModelSpec, options: DownloadOptions): Promise<string> {
  if (existsSync(spec.path)) return spec.path;
  if (!spec.url) throw unavailable(spec, 'no download source for custom models');
  mkdirSync(dirname(spec.path), { recursive: true });
  const partial = `${spec.path}.partial-${process.pid}-${Date.now()}`;
  const overall = AbortSignal.timeout(options.timeoutMs);
  const connect = AbortSignal.timeout(options.connectTimeoutMs ?? 20_000);
  const headers: Record<string, string> = {};
  if (options.hfAuthToken) headers.authorization = `Bearer ${options.hfAuthToken}`;
  options.log(`downloading ${spec.url} → ${spec.path}`);
  let response: Response;
  try {
    response = await (options.fetchImpl ?? fetch)(spec.url, { headers, signal: AbortSignal.any([overall, connect]) });
  } catch (error) {
    throw unavailable(spec, `network: ${(error as Error).cause ? String((error as Error).cause) : (error as Error).message}`);
  }
  if (!response.ok || !response.body) throw unavailable(spec, `HTTP ${response.status}`);
  const total = Number(response.headers.get('content-length') ?? 0);
  let received = 0;
  let nextReport = 0.1;
  const started = Date.now();
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>, { signal: overall });
  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (total > 0 && received / total >= nextReport) {
      options.log(`${spec.fileName}: ${Math.round((received / total) * 100)}% of ${(total / 1e6).toFixed(0)} MB (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      nextReport += 0.1;
    }
  });
  try {
    await pipeline(body, createWriteStream(partial));
    if (total > 0 && received !== total) throw new Error(`got ${received} of ${total} bytes`);
    renameSync(partial, spec.path);
  } catch (error) {
    rmSync(partial, { force: true });
    throw unavailable(spec, `download failed: ${(error as Error).message}`);
  }
  options.log(`downloaded ${spec.fileName} (${(received / 1e6).toFixed(1)} MB)`);
  return spec.path;
}
