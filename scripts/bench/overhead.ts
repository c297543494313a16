/**
 * Where a tiny job's time goes from HTTP to the worker and back, next to a bare BullMQ round trip
 * (add → no-op worker → waitUntilFinished) on the same Redis in the same run.
 *
 * The upload is 0.5 s of silence: the worker's pipeline stops at the silence check without whisper,
 * so what remains is overhead. Phases come from the job's own records (ms clocks of one machine):
 *   upload   client start → data.acceptedAt (HTTP, multipart parse, audio store writes, fair share)
 *   pick-up  acceptedAt → processedOn (job add + the worker taking it)
 *   worker   processedOn → finishedOn (audio read, decode/WAV fast path, VAD, result write)
 *   return   finishedOn → the answer at the client (completion event → sync waiter → HTTP answer)
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Queue, QueueEvents, Worker } from 'bullmq';
import Redis from 'ioredis';
import { TRANSCRIBE_QUEUE } from '@app/contracts';
import { encodeWav } from '../../test/support/wav';
import { buildMultipart } from '../load/multipart';
import { runLoad } from '../load/load-client';
import { percentile } from '../load/stats';

export interface PhaseMedians {
  [phase: string]: number;
}

export interface OverheadResult {
  runs: number;
  bareMs: number;
  bare: PhaseMedians;
  serviceMs: number;
  service: PhaseMedians;
  /** medians of the worker's own stage timings (timings_ms) */
  workerStages: PhaseMedians;
  burst?: { uploads: number; kb: number; p50Ms: number; p99Ms: number; errors: number; costPerUpload?: Record<string, ProcessCost> };
  /** CPU time and write/read system calls per sync job, by service process (Linux /proc; absent elsewhere) */
  perJobCost?: Record<string, ProcessCost>;
}

/** Processes whose CPU time and system calls a run counts (name → pid). */
export type CountedProcesses = Record<string, number | undefined>;

interface ProcessCost {
  writes: number;
  reads: number;
  /** user + system CPU time */
  cpuMs: number;
  /** of which system (kernel: sockets, page faults) */
  sysMs: number;
}

/** Linux's clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on every common build). */
const CLOCK_TICKS_PER_S = 100;

/** syscw/syscr (every write or read system call, socket writes included) and CPU time of a process. */
function processCost(pid: number): ProcessCost | undefined {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1]);
    // utime and stime are fields 14 and 15; the command name (field 2) may hold spaces, so count from its ')'
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { writes: field('syscw'), reads: field('syscr'), cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_S, sysMs: (Number(fields[12]) * 1000) / CLOCK_TICKS_PER_S };
  } catch {
    return undefined;
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function medians(samples: Record<string, number>[]): PhaseMedians {
  const keys = [...new Set(samples.flatMap((s) => Object.keys(s)))];
  return Object.fromEntries(keys.map((k) => [k, median(samples.map((s) => s[k] ?? 0))]));
}

/** Wall time of the client's round trip, split at the job's own timestamps. */
function phases(startedAt: number, endedAt: number, acceptedAt: number | undefined, processedOn: number, finishedOn: number): Record<string, number> {
  return {
    ...(acceptedAt !== undefined ? { upload: acceptedAt - startedAt, 'pick-up': processedOn - acceptedAt } : { 'pick-up': processedOn - startedAt }),
    worker: finishedOn - processedOn,
    return: endedAt - finishedOn,
  };
}

async function jobTimes(redis: Redis, prefix: string, queue: string, id: string) {
  const [timestamp, processedOn, finishedOn, data] = await redis.hmget(`${prefix}:${queue}:${id}`, 'timestamp', 'processedOn', 'finishedOn', 'data');
  if (!processedOn || !finishedOn) throw new Error(`job ${id}: no processedOn/finishedOn in Redis`);
  const acceptedAt = data ? (JSON.parse(data) as { acceptedAt?: number }).acceptedAt : undefined;
  return { timestamp: Number(timestamp), processedOn: Number(processedOn), finishedOn: Number(finishedOn), acceptedAt };
}

/** add → a worker whose processor does nothing → waitUntilFinished, one at a time. */
async function bareBullmq(redisUrl: string, prefix: string, runs: number): Promise<{ totals: number[]; samples: Record<string, number>[] }> {
  const connection = () => new Redis(redisUrl, { maxRetriesPerRequest: null });
  const name = 'bench-bare-round-trip';
  const queue = new Queue(name, { connection: connection(), prefix });
  const events = new QueueEvents(name, { connection: connection(), prefix });
  const worker = new Worker(name, async () => ({ ok: true }), { connection: connection(), prefix });
  const redis = connection();
  await Promise.all([events.waitUntilReady(), worker.waitUntilReady()]);
  const totals: number[] = [];
  const samples: Record<string, number>[] = [];
  try {
    for (let i = 0; i < runs + 3; i++) {
      const startedAt = Date.now();
      const t0 = performance.now();
      const job = await queue.add('noop', { i }, { removeOnComplete: { age: 300 } });
      await job.waitUntilFinished(events, 30_000);
      const ms = performance.now() - t0;
      const times = await jobTimes(redis, prefix, name, job.id as string);
      if (i < 3) continue; // warm-up
      totals.push(ms);
      samples.push(phases(startedAt, startedAt + ms, undefined, times.processedOn, times.finishedOn));
    }
  } finally {
    await worker.close();
    await events.close();
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
  }
  return { totals, samples };
}

/** One POST on a kept-alive connection, its body built beforehand (as curl or an SDK sends it): the client's own cost stays out of the figure. */
function postOnce(agent: http.Agent, url: string, body: Buffer, contentType: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': String(body.length) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Sync POST /transcribe of a short silent WAV, one at a time on one kept-alive connection. */
async function serviceRoundTrips(base: string, redisUrl: string, prefix: string, runs: number) {
  const redis = new Redis(redisUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const upload = buildMultipart({}, { name: 'silence.wav', content: encodeWav(new Float32Array(8_000)) });
  const totals: number[] = [];
  const samples: Record<string, number>[] = [];
  const stages: Record<string, number>[] = [];
  try {
    for (let i = 0; i < runs + 3; i++) {
      const startedAt = Date.now();
      const t0 = performance.now();
      const { status, body } = await postOnce(agent, `${base}/transcribe`, upload.body, upload.contentType);
      const ms = performance.now() - t0;
      if (status !== 200) throw new Error(`service answered ${status}: ${JSON.stringify(body)}`);
      if (i < 3) continue;
      const times = await jobTimes(redis, prefix, TRANSCRIBE_QUEUE, body.job_id);
      totals.push(ms);
      samples.push(phases(startedAt, startedAt + ms, times.acceptedAt, times.processedOn, times.finishedOn));
      const { queued: _queued, ...inWorker } = body.timings_ms as Record<string, number>;
      stages.push(inWorker);
    }
  } finally {
    agent.destroy();
    redis.disconnect();
  }
  return { totals, samples, stages };
}

/** `uploads` async uploads of `seconds` of silence at once: enqueue latency (202) at the client. */
async function enqueueBurst(base: string, uploads: number, seconds: number) {
  const { body, contentType } = buildMultipart({ async: 'true' }, { name: 'silence.wav', content: encodeWav(new Float32Array(seconds * 16_000)) });
  const outcome = await runLoad({ url: `${base}/transcribe`, body, headers: { 'content-type': contentType }, connections: uploads, durationMs: 0, once: true, expectStatus: 202, timeoutMs: 120_000 });
  const sorted = [...outcome.latenciesMs].sort((a, b) => a - b);
  return { uploads, kb: body.length / 1024, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), errors: outcome.errors };
}

/**
 * Runs `work` and returns its value with each counted process's cost divided by `items` (the jobs
 * or uploads it made): CPU and system calls over that span, background work included.
 */
async function costPerItem<T>(counted: CountedProcesses, items: number, work: () => Promise<T>): Promise<{ value: T; perItem: Record<string, ProcessCost> }> {
  const before = Object.entries(counted).map(([name, pid]) => [name, pid, pid ? processCost(pid) : undefined] as const);
  const value = await work();
  const perItem: Record<string, ProcessCost> = {};
  for (const [name, pid, start] of before) {
    const end = pid && start ? processCost(pid) : undefined;
    if (!start || !end) continue;
    perItem[name] = {
      writes: (end.writes - start.writes) / items,
      reads: (end.reads - start.reads) / items,
      cpuMs: (end.cpuMs - start.cpuMs) / items,
      sysMs: (end.sysMs - start.sysMs) / items,
    };
  }
  return { value, perItem };
}

/** The burst, with each counted process's cost per upload over it (the worker's includes the jobs it ran meanwhile). */
async function measuredBurst(base: string, burst: { uploads: number; seconds: number }, counted: CountedProcesses) {
  const { value, perItem } = await costPerItem(counted, burst.uploads, () => enqueueBurst(base, burst.uploads, burst.seconds));
  return { ...value, costPerUpload: perItem };
}

export async function benchOverhead(
  base: string,
  redisUrl: string,
  runs = 30,
  burst = { uploads: 200, seconds: 11 },
  counted: CountedProcesses = {},
): Promise<OverheadResult> {
  const prefix = process.env.QUEUE_PREFIX ?? 'bull';
  const bare = await bareBullmq(redisUrl, prefix, runs);
  // warm-up jobs included: they cost the processes as much as the measured ones
  const { value: service, perItem: perJobCost } = await costPerItem(counted, runs + 3, () => serviceRoundTrips(base, redisUrl, prefix, runs));
  return {
    ...(Object.keys(perJobCost).length > 0 ? { perJobCost } : {}),
    runs,
    bareMs: median(bare.totals),
    bare: medians(bare.samples),
    serviceMs: median(service.totals),
    service: medians(service.samples),
    workerStages: medians(service.stages),
    ...(burst.uploads > 0 ? { burst: await measuredBurst(base, burst, counted) } : {}),
  };
}

export function overheadRows(r: OverheadResult): string[] {
  const ms = (v?: number) => (v === undefined ? '–' : `${v.toFixed(1)} ms`);
  const rows = [
    `| **tiny job: service sync round trip (median of ${r.runs})** | **${ms(r.serviceMs)}** |`,
    `| **bare BullMQ round trip (add → no-op worker → waitUntilFinished), same Redis** | **${ms(r.bareMs)}** |`,
    `| **queue + HTTP overhead over bare BullMQ** | **${ms(r.serviceMs - r.bareMs)}** (goal ≤ 5 ms) |`,
  ];
  for (const phase of ['upload', 'pick-up', 'worker', 'return']) {
    rows.push(`| phase ${phase}: service / bare BullMQ (medians) | ${ms(r.service[phase])} / ${ms(r.bare[phase])} |`);
  }
  for (const [name, calls] of Object.entries(r.perJobCost ?? {})) {
    rows.push(`| ${name} per sync job: CPU (of which kernel), write / read system calls (incl. its background work) | ${ms(calls.cpuMs)} (${ms(calls.sysMs)}), ${calls.writes.toFixed(1)} / ${calls.reads.toFixed(1)} |`);
  }
  rows.push(`| worker stages (timings_ms medians) | ${Object.entries(r.workerStages).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')} ms |`);
  if (r.burst) rows.push(`| enqueue, ${r.burst.uploads} concurrent async uploads of ${r.burst.kb.toFixed(0)} KB: p50 / p99 | ${ms(r.burst.p50Ms)} / ${ms(r.burst.p99Ms)}${r.burst.errors ? ` (${r.burst.errors} errors)` : ''} (goal p99 < 300 ms) |`);
  for (const [name, cpu] of Object.entries(r.burst?.costPerUpload ?? {})) rows.push(`| enqueue burst: ${name} CPU per upload (of which kernel) | ${ms(cpu.cpuMs)} (${ms(cpu.sysMs)}) |`);
  return rows;
}
