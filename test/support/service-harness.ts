import { ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import Redis from 'ioredis';
import { ensureLocalRedis } from '@app/redis';
import { findRepoRoot } from './repo-root';

export const REPO_ROOT = findRepoRoot();
export const MODEL_DIR = process.env.MODEL_DIR ?? join(REPO_ROOT, 'models');
/** A Redis database of its own, so the tests never touch other data on a shared server. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/7';

const DIST = join(REPO_ROOT, 'dist', 'apps');

export interface RunningProcess {
  name: string;
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts Redis if needed and empties the test database. */
export async function prepareRedis(): Promise<void> {
  await ensureLocalRedis(TEST_REDIS_URL, (m) => console.log(m));
  const redis = new Redis(TEST_REDIS_URL);
  await redis.flushdb();
  await redis.quit();
}

/** SERVICE_NODE_ARGS: extra node flags for the started API and workers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (not allowed in NODE_OPTIONS). */
const SERVICE_NODE_ARGS = (process.env.SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);

function startProcess(name: string, entry: string, env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, ['--expose-gc', ...SERVICE_NODE_ARGS, entry], {
    env: { ...process.env, REDIS_URL: TEST_REDIS_URL, MODEL_DIR, WHISPER_THREADS: '2', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
    if (process.env.SHOW_SERVICE_LOGS) process.stdout.write(`[${name}] ${chunk}`);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return {
    name,
    child,
    output: () => output,
    stop: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill(signal);
      }),
  };
}

export function startApi(port: number, env: Record<string, string> = {}): RunningProcess {
  return startProcess('api', join(DIST, 'api', 'src', 'main.js'), { PORT: String(port), ...env });
}

export function startWorker(env: Record<string, string> = {}, name = 'worker'): RunningProcess {
  return startProcess(name, join(DIST, 'worker', 'src', 'main.js'), env);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

export interface HealthWorker {
  worker_id: string;
  models: string[];
  busy: boolean;
}

/** Waits until /health is 200 and lists at least `workers` workers. */
export function waitForHealthy(base: string, workers = 1, timeoutMs = 90_000): Promise<HealthWorker[]> {
  return waitFor(`${workers} healthy worker(s) at ${base}`, async () => {
    const response = await fetch(`${base}/health`);
    if (response.status !== 200) return undefined;
    const body = (await response.json()) as { workers: HealthWorker[] };
    return body.workers.length >= workers ? body.workers : undefined;
  }, timeoutMs);
}

export interface UploadFields {
  [name: string]: string;
}

/** POST /transcribe as curl -F would. */
export async function postTranscribe(base: string, file: Buffer | undefined, fields: UploadFields = {}, fileName = 'audio.wav', headers: Record<string, string> = {}) {
  const form = new FormData();
  if (file) form.append('file', new Blob([file]), fileName);
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  const response = await fetch(`${base}/transcribe`, { method: 'POST', body: form, headers });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body };
}

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

export interface ServiceStack {
  api: RunningProcess;
  worker: RunningProcess;
  base: string;
  stop(): Promise<void>;
}

/** A fresh test database, one worker and one API, ready (healthy) before it returns. */
export async function startStack(workerEnv: Record<string, string>, apiEnv: Record<string, string> = {}): Promise<ServiceStack> {
  await prepareRedis();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const worker = startWorker(workerEnv);
  const api = startApi(port, apiEnv);
  await waitForHealthy(base, 1);
  return { api, worker, base, stop: async () => void (await Promise.all([api.stop(), worker.stop()])) };
}
