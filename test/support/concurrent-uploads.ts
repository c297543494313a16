/**
 * Many clients streaming big WAV uploads to POST /transcribe at once, while the API's memory and the
 * audio Redis are sampled (issue 14: "API RSS stays under 300 MB while 50 clients upload 100 MB
 * each"). Shared by `npm run load` (its big-uploads phase) and test/e2e/concurrent-big-uploads.
 *
 * The bytes are generated as they are sent (one reused MB), so the client holds next to nothing. The
 * WAV header is honest about the byte count but declares a sample rate so low that the audio is
 * longer than any MAX_AUDIO_SECONDS the server accepts: the worker refuses each job from its first
 * chunk (audio_too_long) and deletes its chunks, so the uploaded gigabytes leave Redis within
 * seconds instead of being decoded.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import Redis from 'ioredis';
import { wavHeader } from './wav';

const MB = 1024 * 1024;
/** The config accepts MAX_AUDIO_SECONDS up to 48 h; one hour more is refused by any server. */
const LONGER_THAN_ANY_CAP_S = 49 * 3600;

/** A 44-byte PCM16 mono header for `dataBytes` whose sample rate makes it last > 49 h. */
export function overlongWavHeader(dataBytes: number): Buffer {
  const sampleRate = Math.max(1, Math.floor(dataBytes / 2 / LONGER_THAN_ANY_CAP_S));
  return wavHeader(dataBytes, sampleRate);
}

export interface UploadAnswer {
  /** 0: no HTTP answer (the error says why) */
  status: number;
  body: any;
  error?: string;
  /** body bytes written by the client */
  sentBytes: number;
  ms: number;
}

/**
 * POST multipart `fields` then a WAV file part of `dataBytes` (after its header), written with
 * backpressure on a connection of its own. Never rejects: a transport error is status 0.
 */
export function streamWavUpload(base: string, fields: Record<string, string>, dataBytes: number, timeoutMs: number): Promise<UploadAnswer> {
  const boundary = `----tx-big-${Math.random().toString(36).slice(2)}`;
  const preamble = Buffer.from(
    Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
  );
  const header = overlongWavHeader(dataBytes);
  const closing = Buffer.from(`\r\n--${boundary}--\r\n`);
  const total = preamble.length + header.length + dataBytes + closing.length;
  // a quiet tone, not silence: nothing on the way may treat the file as empty
  const piece = Buffer.alloc(MB);
  for (let i = 0; i < piece.length; i += 2) piece.writeInt16LE(Math.round(Math.sin(i / 40) * 300), i);
  const url = new URL('/transcribe', base);
  const started = performance.now();
  return new Promise((resolve) => {
    let sent = 0;
    let answered = false;
    let settled = false;
    const settle = (answer: Omit<UploadAnswer, 'sentBytes' | 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...answer, sentBytes: sent, ms: performance.now() - started });
    };
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent: false,
        timeout: timeoutMs,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(total) },
      },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => settle({ status: response.statusCode ?? 0, body: undefined, error: error.message }));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: kept as text
          }
          settle({ status: response.statusCode ?? 0, body });
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) => settle({ status: 0, body: undefined, error: error.message }));
    const write = (bytes: Buffer) =>
      new Promise<void>((done) => {
        sent += bytes.length;
        if (request.write(bytes)) return done();
        const go = () => (request.off('drain', go), request.off('close', go), done());
        request.on('drain', go);
        request.on('close', go);
      });
    void (async () => {
      await write(preamble);
      await write(header);
      let left = dataBytes;
      // an early answer (a refusal) or a broken connection stops the writing
      while (left > 0 && !request.destroyed && !answered) {
        const next = Math.min(left, piece.length);
        await write(next === piece.length ? piece : piece.subarray(0, next));
        left -= next;
      }
      if (!request.destroyed && !answered) request.end(closing);
    })();
  });
}

/** VmRSS and VmHWM (the kernel's own peak) of a local process, in MB; undefined where /proc has none. */
export function processMemoryMb(pid: number): { rssMb: number; hwmMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
    const figures = { rssMb: field('VmRSS'), hwmMb: field('VmHWM') };
    return Number.isFinite(figures.rssMb) ? figures : undefined;
  } catch {
    return undefined;
  }
}

export interface Sampler {
  /** stops and gives the highest value seen (undefined: no sample) and the sample count */
  stop(): Promise<{ peak?: number; samples: number }>;
}

/** Calls `probe` every `everyMs` (one at a time: a slow probe is not stacked) and keeps the highest value. */
export function sampleMax(everyMs: number, probe: () => Promise<number | undefined> | number | undefined): Sampler {
  let running = true;
  let peak: number | undefined;
  let samples = 0;
  const loop = (async () => {
    while (running) {
      const value = await Promise.resolve()
        .then(probe)
        .catch(() => undefined);
      if (value !== undefined && Number.isFinite(value)) {
        samples++;
        peak = peak === undefined ? value : Math.max(peak, value);
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { peak, samples };
    },
  };
}

/** `INFO memory` used_memory, in MB. */
export async function redisUsedMb(redis: Redis): Promise<number> {
  const match = /^used_memory:(\d+)\r?$/m.exec(await redis.info('memory'));
  if (!match) throw new Error('INFO memory has no used_memory line');
  return Number(match[1]) / MB;
}

/** Pattern of every audio key (manifests and chunks) of the chunked Redis store. */
export const AUDIO_KEY_PATTERN = 'tx:audio:*';

/** How many audio keys there are and the biggest one's MEMORY USAGE (bytes), by SCAN and one pipeline per batch. */
export async function auditAudioKeys(redis: Redis): Promise<{ keys: number; biggestBytes: number }> {
  let cursor = '0';
  let keys = 0;
  let biggestBytes = 0;
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', AUDIO_KEY_PATTERN, 'COUNT', 1000);
    cursor = next;
    keys += batch.length;
    if (batch.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of batch) pipeline.memory('USAGE', key, 'SAMPLES', '0');
    for (const [, usage] of (await pipeline.exec()) ?? []) biggestBytes = Math.max(biggestBytes, Number(usage ?? 0));
  } while (cursor !== '0');
  return { keys, biggestBytes };
}

export interface ConcurrentUploadSpec {
  base: string;
  clients: number;
  /** file bytes per client (the WAV's data) */
  dataBytes: number;
  /** the Redis the audio goes to (AUDIO_REDIS_URL of the server) */
  audioRedis: Redis;
  /** the API's memory now, in MB (RSS), and its kernel peak where known */
  apiMemory: () => Promise<{ rssMb: number; hwmMb?: number } | undefined>;
  everyMs?: number;
  /** per upload */
  timeoutMs?: number;
  /** how long to wait for every job to end and every audio key to go, after the uploads */
  settleMs?: number;
  /** also MEMORY USAGE of every audio key, every `auditEveryMs` (costs Redis time; off by default) */
  auditEveryMs?: number;
}

export interface ConcurrentUploadResult {
  clients: number;
  mbPerClient: number;
  totalMb: number;
  seconds: number;
  mbPerS: number;
  /** HTTP status (0: no answer) → count */
  statuses: Record<string, number>;
  errorSamples: string[];
  /** the jobs' ends: status or error code → count (e.g. audio_too_long: 50) */
  jobOutcomes: Record<string, number>;
  apiRssBeforeMb?: number;
  apiRssPeakMb?: number;
  apiRssAfterMb?: number;
  /** VmHWM after the phase (the kernel's peak over the process's life) */
  apiHwmAfterMb?: number;
  apiRssSamples: number;
  redisUsedBeforeMb: number;
  redisUsedPeakMb?: number;
  redisUsedAfterMb: number;
  biggestAudioKeyBytes?: number;
  mostAudioKeys?: number;
  /** audio keys still there once every job ended (0 = cleaned up) */
  audioKeysLeft: number;
  /** from the last upload's answer until no audio key was left */
  cleanupSeconds?: number;
}

async function jobOutcome(base: string, jobId: string): Promise<string | undefined> {
  const response = await fetch(`${base}/jobs/${jobId}`).catch(() => undefined);
  if (!response?.ok) return undefined;
  const view = (await response.json()) as { status?: string; error?: { code?: string } };
  if (view.status === 'failed') return view.error?.code ?? 'failed';
  return view.status === 'completed' || view.status === 'cancelled' ? view.status : undefined;
}

/**
 * `clients` uploads at once (async=true), the API's RSS and the audio Redis's used_memory sampled
 * every `everyMs` meanwhile; then every accepted job is followed to its end and the audio keys to
 * their removal (up to `settleMs`).
 */
export async function runConcurrentUploads(spec: ConcurrentUploadSpec): Promise<ConcurrentUploadResult> {
  const everyMs = spec.everyMs ?? 100;
  const before = await spec.apiMemory();
  const redisBefore = await redisUsedMb(spec.audioRedis);
  const rss = sampleMax(everyMs, async () => (await spec.apiMemory())?.rssMb);
  const redisPeak = sampleMax(everyMs, () => redisUsedMb(spec.audioRedis));
  let biggestAudioKeyBytes: number | undefined;
  let mostAudioKeys: number | undefined;
  const audit = spec.auditEveryMs
    ? sampleMax(spec.auditEveryMs, async () => {
        const seen = await auditAudioKeys(spec.audioRedis);
        biggestAudioKeyBytes = Math.max(biggestAudioKeyBytes ?? 0, seen.biggestBytes);
        mostAudioKeys = Math.max(mostAudioKeys ?? 0, seen.keys);
        return seen.keys;
      })
    : undefined;
  const started = performance.now();
  const answers = await Promise.all(
    Array.from({ length: spec.clients }, () => streamWavUpload(spec.base, { async: 'true' }, spec.dataBytes, spec.timeoutMs ?? 600_000)),
  );
  const uploadsEnded = performance.now();
  const seconds = (uploadsEnded - started) / 1000;
  const [rssPeak, redisUsedPeak] = await Promise.all([rss.stop(), redisPeak.stop(), audit?.stop()]);
  const after = await spec.apiMemory();

  const statuses: Record<string, number> = {};
  const errorSamples = new Set<string>();
  for (const answer of answers) {
    statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
    if (answer.status !== 202 && errorSamples.size < 5) errorSamples.add(answer.error ?? `${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
  }
  const jobIds = answers.filter((a) => a.status === 202 && typeof a.body?.job_id === 'string').map((a) => a.body.job_id as string);
  const settleDeadline = Date.now() + (spec.settleMs ?? 120_000);
  const outcomes = new Map<string, string>();
  while (outcomes.size < jobIds.length && Date.now() < settleDeadline) {
    for (const id of jobIds) {
      if (outcomes.has(id)) continue;
      const outcome = await jobOutcome(spec.base, id);
      if (outcome) outcomes.set(id, outcome);
    }
    if (outcomes.size < jobIds.length) await new Promise((r) => setTimeout(r, 250));
  }
  const jobOutcomes: Record<string, number> = {};
  for (const id of jobIds) {
    const outcome = outcomes.get(id) ?? 'unfinished';
    jobOutcomes[outcome] = (jobOutcomes[outcome] ?? 0) + 1;
  }
  // the worker deletes a job's chunks as it ends it: wait for the last ones to go
  let audioKeysLeft = (await auditAudioKeys(spec.audioRedis)).keys;
  while (audioKeysLeft > 0 && Date.now() < settleDeadline) {
    await new Promise((r) => setTimeout(r, 250));
    audioKeysLeft = (await auditAudioKeys(spec.audioRedis)).keys;
  }
  const totalMb = (spec.clients * spec.dataBytes) / MB;
  return {
    clients: spec.clients,
    mbPerClient: spec.dataBytes / MB,
    totalMb,
    seconds,
    mbPerS: totalMb / seconds,
    statuses,
    errorSamples: [...errorSamples],
    jobOutcomes,
    apiRssBeforeMb: before?.rssMb,
    apiRssPeakMb: rssPeak.peak === undefined && after === undefined ? undefined : Math.max(rssPeak.peak ?? 0, after?.rssMb ?? 0),
    apiRssAfterMb: after?.rssMb,
    apiHwmAfterMb: after?.hwmMb,
    apiRssSamples: rssPeak.samples,
    redisUsedBeforeMb: redisBefore,
    redisUsedPeakMb: redisUsedPeak.peak,
    redisUsedAfterMb: await redisUsedMb(spec.audioRedis),
    biggestAudioKeyBytes,
    mostAudioKeys,
    audioKeysLeft,
    cleanupSeconds: audioKeysLeft === 0 ? (performance.now() - uploadsEnded) / 1000 : undefined,
  };
}
