/**
 * `npm run load`: how many jobs the API takes and how fast, and what it costs in memory.
 *
 *   async: POST /transcribe async=true at 200 connections for 60 s (enqueue only: 202 expected)
 *   drain: the worker works off the backlog (reported, not load)
 *   sync:  POST /transcribe (waits for the transcript: 200 expected) at 2 × workers connections
 *
 * The upload is a short silent WAV, so the worker's pipeline ends at the silence check without
 * whisper: what is measured is the service's overhead. Prints requests/s, p50/p99, errors, API RSS
 * and Redis used_memory before/after each phase. Starts its own API + worker(s) on
 * TEST_REDIS_URL (default redis://127.0.0.1:6379/7, emptied first and after) unless --url is given.
 *
 *   npm run load -- [--short] [--url http://host:port --redis-url redis://…] [--connections N]
 *                   [--seconds S] [--workers N] [--audio-seconds S]
 * --short: ~10 s in all, 20 async connections; exits 1 unless every phase is sane (no errors,
 * p99 under a generous bound), which is what CI runs.
 */
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { TRANSCRIBE_QUEUE } from '@app/contracts';
import { freePort, prepareRedis, RunningProcess, startApi, startWorker, TEST_REDIS_URL, waitFor, waitForHealthy } from '../../test/support/service-harness';
import { encodeWav } from '../../test/support/wav';
import { runLoad } from './load-client';
import { buildMultipart } from './multipart';
import { insanities, PHASE_HEADER, PhaseResult, phaseRow, rssMbFromProcStatus, SaneBounds, summarize, usedMemoryBytes } from './stats';

interface Options {
  short: boolean;
  url?: string;
  redisUrl: string;
  connections: number;
  seconds: number;
  workers: number;
  audioSeconds: number;
}

function parseArgs(argv: string[]): Options {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const short = argv.includes('--short');
  const url = value('--url');
  return {
    short,
    url,
    redisUrl: value('--redis-url') ?? (url ? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' : TEST_REDIS_URL),
    connections: Number(value('--connections') ?? (short ? 20 : 200)),
    seconds: Number(value('--seconds') ?? (short ? 4 : 60)),
    workers: Number(value('--workers') ?? 1),
    audioSeconds: Number(value('--audio-seconds') ?? 0.5),
  };
}

/** Generous on purpose: CI machines are slow and shared; these catch a broken path, not a slow one. */
const SHORT_BOUNDS: SaneBounds = { maxP99Ms: 5_000, minRequestsPerS: 1 };

interface Memory {
  apiRssMb?: number;
  redisUsedMb: number;
}

async function apiRssMb(base: string, api?: RunningProcess): Promise<number | undefined> {
  if (api?.child.pid) {
    try {
      return rssMbFromProcStatus(readFileSync(`/proc/${api.child.pid}/status`, 'utf8'));
    } catch {
      // not Linux: fall back to the API's own metric
    }
  }
  const response = await fetch(`${base}/metrics`).catch(() => undefined);
  const text = response?.ok ? await response.text() : '';
  const match = /^process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
  return match ? Number(match[1]) / 2 ** 20 : undefined;
}

async function memory(base: string, redis: Redis, api?: RunningProcess): Promise<Memory> {
  return { apiRssMb: await apiRssMb(base, api), redisUsedMb: usedMemoryBytes(await redis.info('memory')) / 2 ** 20 };
}

const mb = (value?: number) => (value === undefined ? 'n/a' : `${value.toFixed(0)} MB`);

async function workerCount(base: string): Promise<number> {
  const response = await fetch(`${base}/health`);
  const body = (await response.json()) as { workers?: unknown[] };
  return Math.max(1, body.workers?.length ?? 1);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const processes: RunningProcess[] = [];
  let base = options.url?.replace(/\/$/, '');
  if (!base) {
    await prepareRedis();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < options.workers; i++) processes.push(startWorker({ WHISPER_MODEL: 'synthetic-micro' }, `worker-${i}`));
    // no per-client backlog cap or rate limit: the load comes from one address
    processes.unshift(startApi(port, { MAX_QUEUED_PER_KEY: '1000000', RATE_LIMIT_PER_MIN: '0', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }));
    await waitForHealthy(base, options.workers);
  }
  const api = options.url ? undefined : processes[0];
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3 });
  const queue = new Queue(TRANSCRIBE_QUEUE, { connection: new Redis(options.redisUrl, { maxRetriesPerRequest: null }), prefix: process.env.QUEUE_PREFIX ?? 'bull' });
  const results: PhaseResult[] = [];
  const memoryRows: string[] = [];
  try {
    const workers = options.url ? await workerCount(base) : options.workers;
    const silent = encodeWav(new Float32Array(Math.round(options.audioSeconds * 16_000)));
    const phase = async (name: string, fields: Record<string, string>, connections: number, expectStatus: number) => {
      const { body, contentType } = buildMultipart(fields, { name: 'silence.wav', content: silent });
      const before = await memory(base, redis, api);
      const outcome = await runLoad({ url: `${base}/transcribe`, body, headers: { 'content-type': contentType }, connections, durationMs: options.seconds * 1000, expectStatus, timeoutMs: 120_000 });
      const after = await memory(base, redis, api);
      const result = summarize(name, connections, outcome.elapsedS, outcome.latenciesMs, outcome.errors, outcome.errorSamples);
      results.push(result);
      memoryRows.push(`| ${name} | ${mb(before.apiRssMb)} → ${mb(after.apiRssMb)} | ${mb(before.redisUsedMb)} → ${mb(after.redisUsedMb)} |`);
      console.log(`[load] ${phaseRow(result)}`);
    };

    await phase('async enqueue', { async: 'true' }, options.connections, 202);
    // the backlog first, so the sync phase is not queued behind it
    const drainStarted = performance.now();
    const backlog = await queue.count();
    await waitFor('the queue to drain', async () => ((await queue.count()) === 0 ? true : undefined), options.short ? 120_000 : 900_000, 250);
    const drainS = (performance.now() - drainStarted) / 1000;
    await phase('sync (2 × workers)', {}, 2 * workers, 200);

    console.log('');
    console.log(`${options.audioSeconds} s silent WAV (${(silent.length / 1024).toFixed(0)} KB) per request, ${workers} worker(s), ${options.seconds} s per phase`);
    console.log('');
    for (const line of [...PHASE_HEADER, ...results.map(phaseRow)]) console.log(line);
    console.log('');
    console.log('| phase | API RSS before → after | Redis used_memory before → after |');
    console.log('| --- | --- | --- |');
    for (const row of memoryRows) console.log(row);
    console.log('');
    console.log(`backlog after the async phase: ${backlog} jobs, drained in ${drainS.toFixed(1)} s (${(backlog / Math.max(drainS, 0.001)).toFixed(0)} jobs/s)`);
    for (const r of results) if (r.errors > 0) console.log(`${r.name} errors: ${r.errorSamples.join(' | ')}`);

    if (options.short) {
      const problems = results.flatMap((r) => insanities(r, SHORT_BOUNDS));
      if (problems.length > 0) throw new Error(`load --short: not sane: ${problems.join('; ')}`);
      console.log('load --short: sane (no errors, p99 within bounds)');
    }
  } finally {
    await queue.close();
    await Promise.all(processes.map((p) => p.stop()));
    // our own database only: what the run left (finished jobs) goes with it
    if (!options.url) await redis.flushdb();
    redis.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
