/**
 * `npm run load`: how many jobs the API takes and how fast, and what it costs in memory.
 *
 *   async: POST /transcribe async=true at 200 connections for 60 s (enqueue only: 202 expected)
 *   drain: the worker works off the backlog (reported, not load)
 *   sync:  POST /transcribe (waits for the transcript: 200 expected) at 2 × workers connections
 *   big:   --big-uploads clients (50) each stream a --big-mb (100 MB) WAV at once, async; API RSS
 *          and the audio Redis's used_memory sampled every 100 ms (before, peak, after), MB/s,
 *          statuses, the jobs' ends, and whether every audio chunk was deleted afterwards
 *
 * The upload is a short silent WAV, so the worker's pipeline ends at the silence check without
 * whisper: what is measured is the service's overhead. Prints requests/s, p50/p99, errors, API RSS
 * and Redis used_memory before/after each phase. Starts its own API + worker(s) on
 * TEST_REDIS_URL (default redis://127.0.0.1:6379/7, emptied first and after) unless --url is given.
 *
 *   npm run load -- [--short] [--url http://host:port --redis-url redis://… [--audio-redis-url redis://…]] [--connections N]
 *                   [--seconds S] [--workers N] [--audio-seconds S]
 *                   [--big-uploads N] [--big-mb M] [--phases async,sync,big]
 * --short: ~10 s in all, 20 async connections, no big phase unless --big-uploads is given; exits 1
 * unless every phase is sane (no errors, p99 under a generous bound), which is what CI runs.
 *
 * The big phase's 5 GB must not be decoded nor pile up for long: each WAV's header declares a
 * sample rate so low that the file lasts > 48 h (more than any MAX_AUDIO_SECONDS), so the worker
 * refuses each job from its first chunk (audio_too_long) and deletes its chunks. While the uploads
 * run, all of them are in Redis at once (~1.25 × the bytes: jemalloc's size class for a 1 MiB
 * string); the phase refuses to start when Redis's maxmemory or, for a local Redis, the machine's
 * available memory has no room for that.
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { TRANSCRIBE_QUEUE } from '@app/contracts';
import { freePort, prepareRedis, RunningProcess, startApi, startWorker, TEST_REDIS_URL, waitFor, waitForHealthy } from '../../test/support/service-harness';
import { encodeWav } from '../../test/support/wav';
import { processMemoryMb, runConcurrentUploads } from '../../test/support/concurrent-uploads';
import { runLoad } from './load-client';
import { buildMultipart } from './multipart';
import { insanities, PHASE_HEADER, PhaseResult, phaseRow, rssMbFromProcStatus, SaneBounds, summarize, usedMemoryBytes } from './stats';

interface Options {
  short: boolean;
  url?: string;
  redisUrl: string;
  /** where the server keeps uploads (its AUDIO_REDIS_URL); the big phase watches it */
  audioRedisUrl: string;
  connections: number;
  seconds: number;
  workers: number;
  audioSeconds: number;
  bigUploads: number;
  bigMb: number;
  phases: Set<string>;
}

const PHASES = ['async', 'sync', 'big'];

function parseArgs(argv: string[]): Options {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const short = argv.includes('--short');
  const url = value('--url');
  const redisUrl = value('--redis-url') ?? (url ? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' : TEST_REDIS_URL);
  return {
    short,
    url,
    redisUrl,
    audioRedisUrl: value('--audio-redis-url') ?? redisUrl,
    connections: Number(value('--connections') ?? (short ? 20 : 200)),
    seconds: Number(value('--seconds') ?? (short ? 4 : 60)),
    workers: Number(value('--workers') ?? 1),
    audioSeconds: Number(value('--audio-seconds') ?? 0.5),
    bigUploads: Number(value('--big-uploads') ?? (short ? 0 : 50)),
    bigMb: Number(value('--big-mb') ?? 100),
    phases: new Set((value('--phases') ?? PHASES.join(',')).split(',').map((p) => p.trim())),
  };
}

/** The goal of issue 14: the API's RSS while 50 clients upload 100 MB each. */
const BIG_UPLOAD_RSS_GOAL_MB = 300;
/** Redis bytes per uploaded byte: a 1 MiB chunk is a 1 MiB + 10 B string, in jemalloc's 1.25 MiB size class. */
const REDIS_BYTES_PER_AUDIO_BYTE = 1.3;

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
  return metricsRssMb(base);
}

async function metricsRssMb(base: string): Promise<number | undefined> {
  const response = await fetch(`${base}/metrics`).catch(() => undefined);
  const text = response?.ok ? await response.text() : '';
  const match = /^process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
  return match ? Number(match[1]) / 2 ** 20 : undefined;
}

async function memory(base: string, redis: Redis, api?: RunningProcess): Promise<Memory> {
  return { apiRssMb: await apiRssMb(base, api), redisUsedMb: usedMemoryBytes(await redis.info('memory')) / 2 ** 20 };
}

const mb = (value?: number) => (value === undefined ? 'n/a' : `${value.toFixed(0)} MB`);

/** MemAvailable of this machine (what a local Redis can still grow into), in MB. */
function availableMemoryMb(): number {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // not Linux
  }
  return freemem() / 2 ** 20;
}

/** Why the big phase can't hold its bytes in this Redis at once; undefined when it can. */
async function noRoomForBigUploads(redis: Redis, redisUrl: string, needMb: number): Promise<string | undefined> {
  const usedMb = usedMemoryBytes(await redis.info('memory')) / 2 ** 20;
  // a managed Redis may refuse CONFIG: then only its own OOM error would tell
  const maxmemory = await redis.config('GET', 'maxmemory').then((reply) => Number((reply as string[])[1]), () => 0);
  if (maxmemory > 0 && usedMb + needMb > maxmemory / 2 ** 20) {
    return `Redis maxmemory is ${(maxmemory / 2 ** 20).toFixed(0)} MB, ${usedMb.toFixed(0)} MB used: no room for ~${needMb.toFixed(0)} MB of uploads at once`;
  }
  const host = new URL(redisUrl).hostname;
  if (['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host) && needMb > availableMemoryMb() * 0.8) {
    return `this machine has ${availableMemoryMb().toFixed(0)} MB available: too little for ~${needMb.toFixed(0)} MB of uploads in the local Redis at once`;
  }
  return undefined;
}

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
    processes.unshift(
      startApi(port, {
        MAX_QUEUED_PER_KEY: '1000000',
        RATE_LIMIT_PER_MIN: '0',
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
        // room for the big phase's files (the default is 200)
        MAX_UPLOAD_MB: String(Math.max(200, Math.ceil(options.bigMb) + 1)),
      }),
    );
    await waitForHealthy(base, options.workers);
  }
  const api = options.url ? undefined : processes[0];
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3 });
  const audioRedis = options.audioRedisUrl === options.redisUrl ? redis : new Redis(options.audioRedisUrl, { maxRetriesPerRequest: 3 });
  const queue = new Queue(TRANSCRIBE_QUEUE, { connection: new Redis(options.redisUrl, { maxRetriesPerRequest: null }), prefix: process.env.QUEUE_PREFIX ?? 'bull' });
  const results: PhaseResult[] = [];
  const memoryRows: string[] = [];
  const bigRows: string[] = [];
  const bigProblems: string[] = [];
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

    const bigPhase = async () => {
      const name = `big uploads (${options.bigUploads} × ${options.bigMb} MB)`;
      const needMb = options.bigUploads * options.bigMb * REDIS_BYTES_PER_AUDIO_BYTE;
      const noRoom = await noRoomForBigUploads(audioRedis, options.audioRedisUrl, needMb);
      if (noRoom) {
        bigProblems.push(`${name}: not run: ${noRoom} (use fewer --big-uploads or a smaller --big-mb)`);
        console.log(`[load] ${bigProblems[bigProblems.length - 1]}`);
        return;
      }
      const pid = api?.child.pid;
      const r = await runConcurrentUploads({
        base,
        clients: options.bigUploads,
        dataBytes: Math.round(options.bigMb * 2 ** 20),
        audioRedis,
        apiMemory: async () => {
          const local = pid ? processMemoryMb(pid) : undefined;
          if (local) return local;
          const rssMb = await metricsRssMb(base);
          return rssMb === undefined ? undefined : { rssMb };
        },
        everyMs: 100,
        settleMs: 300_000,
      });
      const statuses = Object.entries(r.statuses).map(([status, n]) => `${n} × ${status}`).join(', ');
      const outcomes = Object.entries(r.jobOutcomes).map(([outcome, n]) => `${n} × ${outcome}`).join(', ') || 'none';
      bigRows.push(
        `| ${name} | ${r.seconds.toFixed(1)} s | ${r.mbPerS.toFixed(0)} MB/s | ${mb(r.apiRssBeforeMb)} → ${mb(r.apiRssPeakMb)} → ${mb(r.apiRssAfterMb)} | ${mb(r.apiHwmAfterMb)} | ${mb(r.redisUsedBeforeMb)} → ${mb(r.redisUsedPeakMb)} → ${mb(r.redisUsedAfterMb)} | ${statuses} | ${outcomes} | ${r.audioKeysLeft === 0 ? `yes (${r.cleanupSeconds?.toFixed(1)} s)` : `no: ${r.audioKeysLeft} keys left`} |`,
      );
      console.log(`[load] ${bigRows[bigRows.length - 1]} (${r.apiRssSamples} RSS samples)`);
      if ((r.statuses['202'] ?? 0) !== r.clients) bigProblems.push(`${name}: ${r.clients - (r.statuses['202'] ?? 0)} uploads not accepted (${r.errorSamples.join(' | ')})`);
      if (r.audioKeysLeft > 0) bigProblems.push(`${name}: ${r.audioKeysLeft} audio keys left after the jobs ended`);
      const peak = Math.max(r.apiRssPeakMb ?? 0, r.apiHwmAfterMb ?? 0);
      if (peak >= BIG_UPLOAD_RSS_GOAL_MB) bigProblems.push(`${name}: API RSS peak ${peak.toFixed(0)} MB ≥ ${BIG_UPLOAD_RSS_GOAL_MB} MB`);
    };

    let backlog = 0;
    let drainS = 0;
    if (options.phases.has('async')) {
      await phase('async enqueue', { async: 'true' }, options.connections, 202);
      // the backlog first, so the sync phase is not queued behind it
      const drainStarted = performance.now();
      backlog = await queue.count();
      await waitFor('the queue to drain', async () => ((await queue.count()) === 0 ? true : undefined), options.short ? 120_000 : 900_000, 250);
      drainS = (performance.now() - drainStarted) / 1000;
    }
    if (options.phases.has('sync')) await phase('sync (2 × workers)', {}, 2 * workers, 200);
    // last: on an API that already served the other phases (its heap as it is after real traffic)
    if (options.phases.has('big') && options.bigUploads > 0) await bigPhase();

    if (results.length > 0) {
      console.log('');
      console.log(`${options.audioSeconds} s silent WAV (${(silent.length / 1024).toFixed(0)} KB) per request, ${workers} worker(s), ${options.seconds} s per phase`);
      console.log('');
      for (const line of [...PHASE_HEADER, ...results.map(phaseRow)]) console.log(line);
      console.log('');
      console.log('| phase | API RSS before → after | Redis used_memory before → after |');
      console.log('| --- | --- | --- |');
      for (const row of memoryRows) console.log(row);
      console.log('');
    }
    if (options.phases.has('async')) console.log(`backlog after the async phase: ${backlog} jobs, drained in ${drainS.toFixed(1)} s (${(backlog / Math.max(drainS, 0.001)).toFixed(0)} jobs/s)`);
    for (const r of results) if (r.errors > 0) console.log(`${r.name} errors: ${r.errorSamples.join(' | ')}`);
    if (bigRows.length > 0) {
      console.log('');
      console.log('| phase | time | throughput | API RSS before → peak → after | API VmHWM after | Redis used_memory before → peak → after | answers | jobs | audio chunks deleted |');
      console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
      for (const row of bigRows) console.log(row);
      console.log(`API RSS sampled every 100 ms from /proc (VmHWM: the kernel's peak over the API's whole life); goal: peak < ${BIG_UPLOAD_RSS_GOAL_MB} MB`);
    }
    for (const problem of bigProblems) console.log(`problem: ${problem}`);

    if (options.short) {
      const problems = [...results.flatMap((r) => insanities(r, SHORT_BOUNDS)), ...bigProblems];
      if (problems.length > 0) throw new Error(`load --short: not sane: ${problems.join('; ')}`);
      console.log('load --short: sane (no errors, p99 within bounds)');
    }
  } finally {
    await queue.close();
    await Promise.all(processes.map((p) => p.stop()));
    // our own database only: what the run left (finished jobs) goes with it
    if (!options.url) await redis.flushdb();
    redis.disconnect();
    if (audioRedis !== redis) audioRedis.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
