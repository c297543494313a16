/**
 * Streaming uploads and audio off the persistent Redis (issue 14, items 1 and 2), end to end with
 * the real API and worker against two redis-servers started here, laid out as docker-compose runs
 * them: the queue Redis with AOF (appendonly yes) and an audio Redis without persistence
 * (AUDIO_REDIS_URL). Checks: a job's audio never reaches the queue Redis's AOF; chunks are removed
 * after a job, after a client disconnects mid-upload, after a 413 sent while the body still streams;
 * a job whose audio vanished fails with audio_expired; a 1 GB WAV streams through the API with its
 * RSS growing < 100 MB and no Redis key above 4 MB, and is refused early as audio_too_long.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { JFK_WAV } from '../support/samples';
import { wavHeader } from '../support/wav';
import { freePort, getJson, postTranscribe, RunningProcess, startApi, startWorker, waitFor, waitForHealthy } from '../support/service-harness';

const MB = 1024 * 1024;
const MODEL = { WHISPER_MODEL: 'synthetic-micro' };

interface RedisServer {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/** A redis-server of this test's own on a free port, with its data directory in a temporary folder. */
async function startRedisServer(args: string[]): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tx-redis-'));
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...args], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(`redis-server on ${port}`, async () => {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG' ? true : undefined;
    } finally {
      probe.disconnect();
    }
  }, 20_000);
  return {
    url,
    dir,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }).then(() => rmSync(dir, { recursive: true, force: true })),
  };
}

/** The AOF files' bytes (Redis 7: appendonlydir/*; older: appendonly.aof). */
function readAof(dir: string): Buffer {
  const files: string[] = [];
  try {
    for (const name of readdirSync(join(dir, 'appendonlydir'))) files.push(join(dir, 'appendonlydir', name));
  } catch {
    files.push(join(dir, 'appendonly.aof'));
  }
  return Buffer.concat(files.map((file) => readFileSync(file)));
}

interface StreamedUpload {
  status: number;
  body: any;
  /** bytes of the body written by the client when the answer's headers arrived */
  sentWhenAnswered: number;
  /** the whole multipart body's size */
  totalBytes: number;
}

/**
 * POST multipart with fields first, then a file part of `fileBytes` generated piece by piece
 * (never whole in this process either), through http.request with backpressure. `onProgress` sees
 * the bytes sent so far and may abort the request (a client gone mid-upload).
 */
function streamUpload(
  base: string,
  path: string,
  fields: Record<string, string>,
  head: Buffer,
  fileBytes: number,
  onProgress?: (sent: number, request: http.ClientRequest) => void,
): Promise<StreamedUpload> {
  const boundary = `----tx-stream-${Date.now()}`;
  const preamble = Buffer.from(
    Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="long.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
  );
  const closing = Buffer.from(`\r\n--${boundary}--\r\n`);
  const totalBytes = preamble.length + fileBytes + closing.length;
  // a quiet, non-silent pattern (so nothing downstream can treat it as empty): one MB reused
  const piece = Buffer.alloc(MB);
  for (let i = 0; i < piece.length; i += 2) piece.writeInt16LE(Math.round(Math.sin(i / 40) * 300), i);
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let sentWhenAnswered = -1;
    const request = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(totalBytes) } },
      (response) => {
        sentWhenAnswered = sent;
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: kept as text
          }
          resolve({ status: response.statusCode ?? 0, body, sentWhenAnswered, totalBytes });
        });
      },
    );
    request.on('error', reject);
    const write = (bytes: Buffer) =>
      new Promise<void>((done) => {
        sent += bytes.length;
        if (request.write(bytes)) done();
        else request.once('drain', done);
      });
    void (async () => {
      await write(preamble);
      await write(head);
      let left = fileBytes - head.length;
      while (left > 0 && !request.destroyed && sentWhenAnswered < 0) {
        const next = Math.min(left, piece.length);
        await write(next === piece.length ? piece : piece.subarray(0, next));
        left -= next;
        onProgress?.(sent, request);
      }
      if (!request.destroyed && sentWhenAnswered < 0) request.end(closing);
    })().catch(reject);
  });
}

/** The API process's resident memory (kB) from /proc: current and peak. */
function memoryOf(pid: number): { rssKb: number; hwmKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

/** The API answers (any status: /health is 503 without a worker); one that exited says why. */
async function apiUp(api: RunningProcess, base: string): Promise<void> {
  await waitFor('the API', async () => {
    if (api.child.exitCode !== null) throw new Error(`the API exited (${api.child.exitCode}): ${api.output().slice(-2000)}`);
    return (await fetch(`${base}/health`).catch(() => undefined))?.status ? true : undefined;
  }, 120_000).catch((error: Error) => {
    throw new Error(`${error.message}\n${api.output().slice(-2000)}`);
  });
}

async function audioKeys(redis: Redis): Promise<string[]> {
  return redis.keys('tx:audio:*');
}

describe('streaming uploads into a chunked audio store, audio off the persistent Redis', () => {
  let queueRedis: RedisServer;
  let audioRedis: RedisServer;
  let audio: Redis;
  let api: RunningProcess;
  let worker: RunningProcess | undefined;
  let base: string;
  const jfk = readFileSync(JFK_WAV);
  const env = () => ({ ...MODEL, REDIS_URL: queueRedis.url, AUDIO_REDIS_URL: audioRedis.url, MAX_UPLOAD_MB: '1100' });

  beforeAll(async () => {
    // the compose layout: the queue persists (AOF), the audio lives in memory only
    queueRedis = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']);
    audioRedis = await startRedisServer(['--appendonly', 'no', '--save', '', '--maxmemory-policy', 'noeviction']);
    audio = new Redis(audioRedis.url);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = startApi(port, env());
    await apiUp(api, base);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await audio?.quit();
    await Promise.all([queueRedis?.stop(), audioRedis?.stop()]);
  });

  it('a job whose audio vanished (the audio store flushed before a worker took it) fails with audio_expired (410), not a 500', async () => {
    // no worker yet: the async job waits in the queue with its audio in the audio store
    const queued = await postTranscribe(base, jfk, { async: 'true' }, 'jfk.wav');
    expect(queued.status).toBe(202);
    expect((await audioKeys(audio)).length).toBeGreaterThan(0);
    // what a restart of the in-memory audio Redis does
    await audio.flushall();
    worker = startWorker(env());
    await waitForHealthy(base, 1, 120_000);
    const failed = await waitFor('the job to fail', async () => {
      const view = await getJson(`${base}/jobs/${queued.body.job_id}`);
      return view.body?.status === 'failed' ? view.body : undefined;
    }, 60_000);
    expect(failed.error).toMatchObject({ code: 'audio_expired' });
    expect(failed.error.message).toMatch(/gone/);
  });

  it('a job transcribes from the chunked store, its chunks are deleted, and the queue Redis AOF holds none of its audio bytes', async () => {
    const response = await postTranscribe(base, jfk, {}, 'jfk.wav');
    expect(response.status).toBe(200);
    expect(response.body.text.length).toBeGreaterThan(0);
    await waitFor('the chunks to be deleted', async () => ((await audioKeys(audio)).length === 0 ? true : undefined), 10_000);
    // the AOF is written: it has the job (its id) but not the audio (a 64-byte run from the middle of the file)
    const aof = readAof(queueRedis.dir);
    expect(aof.includes(Buffer.from(response.body.job_id))).toBe(true);
    for (const at of [1000, jfk.length >> 1, jfk.length - 100]) expect(aof.includes(jfk.subarray(at, at + 64))).toBe(false);
    // the control: audio bytes written to the queue Redis are found by the same search (as before this change)
    const queue = new Redis(queueRedis.url);
    try {
      await queue.set('control:audio', jfk.subarray(1000, 1064));
      expect(readAof(queueRedis.dir).includes(jfk.subarray(1000, 1064))).toBe(true);
      await queue.del('control:audio');
    } finally {
      await queue.quit();
    }
  });

  it('a FLAC upload (not WAV, MP4 or MP3) streams into ffmpeg from the chunks and gives the WAV\'s transcript', async () => {
    const flac = execFileSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-i', 'pipe:0', '-f', 'flac', 'pipe:1'], { input: jfk });
    const [fromWav, fromFlac] = [await postTranscribe(base, jfk, {}, 'jfk.wav'), await postTranscribe(base, flac, {}, 'jfk.flac')];
    expect(fromFlac.status).toBe(200);
    expect(fromFlac.body.text).toBe(fromWav.body.text);
    expect(fromFlac.body.duration).toBeCloseTo(fromWav.body.duration, 1);
  });

  it('a client that disconnects mid-upload leaves no audio key behind', async () => {
    let keysDuringUpload = 0;
    let sampled = false;
    await streamUpload(base, '/transcribe', { async: 'true' }, wavHeader(64 * MB), 64 * MB, (sent, request) => {
      if (sent < 24 * MB || sampled) return;
      sampled = true;
      void audioKeys(audio).then((keys) => {
        keysDuringUpload = keys.length;
        request.destroy();
      });
    }).catch(() => undefined);
    // the chunks existed while it streamed (what the cleanup has to remove)
    expect(keysDuringUpload).toBeGreaterThan(5);
    await waitFor('no audio keys', async () => ((await audioKeys(audio)).length === 0 ? true : undefined), 10_000);
  });

  it('past MAX_UPLOAD_MB: 413 while the body still streams, before the whole body was sent, and its chunks removed', async () => {
    const port = await freePort();
    const small = startApi(port, { ...env(), MAX_UPLOAD_MB: '8' });
    try {
      const smallBase = `http://127.0.0.1:${port}`;
      await apiUp(small, smallBase);
      let keysDuringUpload = 0;
      const answer = await streamUpload(smallBase, '/transcribe', { async: 'true' }, wavHeader(200 * MB), 200 * MB, (sent) => {
        // the chunks stored so far, sampled as the client sends (the server is behind the client's count)
        if (sent > 2 * MB) void audioKeys(audio).then((keys) => (keysDuringUpload = Math.max(keysDuringUpload, keys.length)));
      });
      expect(answer.status).toBe(413);
      expect(answer.body.error).toMatchObject({ code: 'upload_too_large', field: 'file' });
      expect(answer.sentWhenAnswered).toBeGreaterThan(8 * MB);
      expect(answer.sentWhenAnswered).toBeLessThan(answer.totalBytes / 2);
      expect(keysDuringUpload).toBeGreaterThan(0);
      expect(await audioKeys(audio)).toEqual([]);
    } finally {
      await small.stop();
    }
  });

  it('a field after the file part is still checked: a bad one is refused and removes the stored chunks', async () => {
    const response = await postTranscribe(base, jfk, { temperature: 'hot' }, 'jfk.wav');
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'validation_failed', field: 'temperature' });
    expect(await audioKeys(audio)).toEqual([]);
  });

  it('a bad field before the file part is refused before any audio is stored', async () => {
    let keysSeen = -1;
    const answer = await streamUpload(base, '/transcribe', { temperature: 'hot' }, wavHeader(32 * MB), 32 * MB, (sent) => {
      if (keysSeen < 0 && sent > 4 * MB) void audioKeys(audio).then((keys) => (keysSeen = keys.length));
    }).catch((error: Error) => ({ status: 0, body: error.message, sentWhenAnswered: -1, totalBytes: 0 }));
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'validation_failed', field: 'temperature' });
    expect(keysSeen === -1 || keysSeen === 0).toBe(true);
    expect(await audioKeys(audio)).toEqual([]);
  });

  it('a 1 GB WAV streams through the API: RSS grows < 100 MB, no Redis key over 4 MB, rejected early as audio_too_long, chunks cleaned up', async () => {
    const pid = api.child.pid!;
    // warm: the routes, the connections and the parser have run once
    await postTranscribe(base, jfk, { async: 'true' }, 'jfk.wav');
    const before = memoryOf(pid);
    const dataBytes = 1024 * MB;
    let peakRssKb = before.rssKb;
    let biggestKey = 0;
    let mostKeys = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRssKb = Math.max(peakRssKb, memoryOf(pid).rssKb);
        // every audio key's size as Redis reports it (the chunks and the manifest)
        let cursor = '0';
        let count = 0;
        do {
          const [next, keys] = await audio.scan(cursor, 'MATCH', 'tx:audio:*', 'COUNT', 500);
          cursor = next;
          count += keys.length;
          for (const key of keys) biggestKey = Math.max(biggestKey, (await audio.memory('USAGE', key, 'SAMPLES', '0')) ?? 0);
        } while (cursor !== '0');
        mostKeys = Math.max(mostKeys, count);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const started = Date.now();
    const answer = await streamUpload(base, '/transcribe', { async: 'true' }, wavHeader(dataBytes), dataBytes);
    const seconds = (Date.now() - started) / 1000;
    const manifest = await audio.get(`tx:audio:${answer.body.job_id}`);
    sampling = false;
    await sampler;
    const after = memoryOf(pid);
    // the sampled peak, and the kernel's own high-water mark (VmHWM) against the RSS before: the larger counts
    const growthMb = (Math.max(peakRssKb, after.rssKb, after.hwmKb) - before.rssKb) / 1024;
    const figures = {
      upload_mb: Math.round(answer.totalBytes / MB),
      seconds: Number(seconds.toFixed(1)),
      mb_per_s: Number((answer.totalBytes / MB / seconds).toFixed(1)),
      api_rss_before_mb: Math.round(before.rssKb / 1024),
      api_rss_growth_mb: Number(growthMb.toFixed(1)),
      api_rss_peak_sampled_mb: Math.round(peakRssKb / 1024),
      api_vmhwm_before_mb: Math.round(before.hwmKb / 1024),
      api_vmhwm_after_mb: Math.round(after.hwmKb / 1024),
      chunk_bytes: MB,
      biggest_redis_key_bytes: biggestKey,
      most_audio_keys_seen: mostKeys,
      manifest,
    };
    console.log(`1 GB streaming upload: ${JSON.stringify(figures)}`);
    expect(answer.status).toBe(202);
    expect(growthMb).toBeLessThan(100);
    expect(biggestKey).toBeGreaterThan(MB);
    expect(biggestKey).toBeLessThan(4 * MB);
    expect(mostKeys).toBeGreaterThan(100);
    const failed = await waitFor('the job to be refused', async () => {
      const view = await getJson(`${base}/jobs/${answer.body.job_id}`);
      return view.body?.status === 'failed' ? view.body : undefined;
    }, 120_000);
    expect(failed.error).toMatchObject({ code: 'audio_too_long' });
    await waitFor('the chunks to be deleted', async () => ((await audioKeys(audio)).length === 0 ? true : undefined), 30_000);
  }, 600_000);
});
