/**
 * BLOB_STORE=s3 against a real S3-protocol server (s3rver on loopback, objects in a temporary
 * directory), looked at with the official @aws-sdk/client-s3: uploads go into the bucket as they
 * arrive (multipart past 5 MiB), the worker reads them from there, and every job's object is deleted
 * when the job ends — completed, failed, cancelled while waiting — but not when its worker dies: a
 * killed worker's job completes on another worker from the stored object.
 */
import { readFileSync } from 'node:fs';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import Redis from 'ioredis';
import { JFK_WAV } from '../support/samples';
import { LocalS3, startLocalS3 } from '../support/s3-server';
import {
  freePort,
  getJson,
  postTranscribe,
  prepareRedis,
  RunningProcess,
  startApi,
  startWorker,
  TEST_REDIS_URL,
  waitFor,
  waitForHealthy,
} from '../support/service-harness';
import { encodeWav, readPcm16Wav, repeatSpeech } from '../support/wav';

const BUCKET = 'tx-e2e';
const PREFIX = 'uploads/';
const MIB = 1024 * 1024;
const MIN_PART_BYTES = 5 * MIB;
// the worker refuses longer audio: the failing job below
const WORKER_MAX_AUDIO_S = 1000;

describe('BLOB_STORE=s3 (s3rver)', () => {
  let s3: LocalS3;
  let redis: Redis;
  let api: RunningProcess;
  let workers: RunningProcess[] = [];
  let base: string;
  const jfkWav = readFileSync(JFK_WAV);
  const jfk = readPcm16Wav(jfkWav);
  const workerEnv = () => ({ ...s3.serviceEnv(BUCKET, PREFIX), WHISPER_MODEL: 'synthetic-micro', MAX_AUDIO_SECONDS: String(WORKER_MAX_AUDIO_S) });

  beforeAll(async () => {
    await prepareRedis();
    redis = new Redis(TEST_REDIS_URL);
    s3 = await startLocalS3();
    await s3.createBucket(BUCKET);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    workers.push(startWorker(workerEnv(), 'worker-a'));
    api = startApi(port, s3.serviceEnv(BUCKET, PREFIX));
    await waitForHealthy(base, 1);
  });

  afterAll(async () => {
    await Promise.all([api, ...workers].map((p) => p?.stop()));
    await redis?.quit();
    await s3?.stop();
  });

  const keyOf = (jobId: string) => `${PREFIX}${jobId}`;
  const requestsFor = (jobId: string) => s3.requests.filter((r) => r.path === `/${BUCKET}/${keyOf(jobId)}`);
  const objectSize = async (jobId: string): Promise<number | null> => {
    try {
      return (await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: keyOf(jobId) }))).ContentLength ?? 0;
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
      throw error;
    }
  };
  const jobEnd = (jobId: string, timeoutMs = 90_000) =>
    waitFor(`job ${jobId} to end`, async () => {
      const { body } = await getJson(`${base}/jobs/${jobId}`);
      return body.status === 'completed' || body.status === 'failed' || body.status === 'cancelled' ? body : undefined;
    }, timeoutMs, 300);
  const bucketEmpties = () => waitFor('no object left under the prefix', async () => ((await s3.keys(BUCKET, PREFIX)).length === 0 ? true : undefined), 10_000, 100);
  /** POST /transcribe async, timed. */
  const upload = async (wav: Buffer) => {
    const started = performance.now();
    const { status, body } = await postTranscribe(base, wav, { async: 'true', allowed_languages: 'en' });
    const seconds = (performance.now() - started) / 1000;
    expect(status).toBe(202);
    return { jobId: body.job_id as string, seconds };
  };
  /** The multipart parts the API sent for a job's object, in bytes. */
  const partSizes = (jobId: string) => requestsFor(jobId).filter((r) => r.method === 'PUT' && r.query.has('partNumber')).map((r) => r.bodyBytes);

  it('upload → job → result: the audio goes through the bucket, not Redis, and its object is deleted after the job', async () => {
    const { jobId } = await upload(jfkWav);
    const done = await jobEnd(jobId);
    expect(done.status).toBe('completed');
    expect(done.result.duration).toBeCloseTo(11, 0);
    expect(done.result.segments.length).toBeGreaterThan(0);
    const seen = requestsFor(jobId).map((r) => r.method);
    // stored with one PUT (under a part), read by the worker with a GET, then deleted
    expect(seen).toEqual(expect.arrayContaining(['PUT', 'GET', 'DELETE']));
    expect(partSizes(jobId)).toEqual([]);
    await bucketEmpties();
    expect(await redis.keys('tx:audio:*')).toEqual([]);
  });

  it('parts go to the bucket while the upload is still arriving: part 1 is stored before the client sends the rest', async () => {
    const wav = encodeWav(repeatSpeech(jfk, 180));
    const partsBefore = s3.requests.filter((r) => r.query.get('partNumber') === '1').length;
    const boundary = `----s3e2e${Date.now()}`;
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="async"\r\n\r\ntrue\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="long.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const firstBytes = MIN_PART_BYTES + 64 * 1024;
    let heldBack = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!heldBack) {
          heldBack = true;
          controller.enqueue(Buffer.concat([head, wav.subarray(0, firstBytes)]));
          return;
        }
        // the rest only once the first part is in the bucket
        await waitFor('part 1 stored mid-upload', async () => (s3.requests.filter((r) => r.query.get('partNumber') === '1').length > partsBefore ? true : undefined), 30_000, 50);
        controller.enqueue(Buffer.concat([wav.subarray(firstBytes), tail]));
        controller.close();
      },
    });
    const response = await fetch(`${base}/transcribe`, {
      method: 'POST',
      body,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(202);
    const { job_id: jobId } = (await response.json()) as { job_id: string };
    expect(partSizes(jobId)).toEqual([MIN_PART_BYTES, wav.length - MIN_PART_BYTES]);
    // cancelled (waiting or already running): its object goes either way
    expect((await getJson(`${base}/jobs/${jobId}`, { method: 'DELETE' })).status).toBe(200);
    expect((await jobEnd(jobId)).status).toBe('cancelled');
    await bucketEmpties();
  });

  it('a 50 MB upload goes up in 5 MiB parts while it arrives; the job fails (too long for the worker) and its object is deleted', async () => {
    const wav = encodeWav(repeatSpeech(jfk, 1600));
    const { jobId, seconds } = await upload(wav);
    const parts = partSizes(jobId);
    console.log(`S3 upload through the API: ${(wav.length / MIB).toFixed(1)} MiB in ${seconds.toFixed(2)} s = ${(wav.length / MIB / seconds).toFixed(1)} MiB/s, ${parts.length} parts`);
    expect(parts).toHaveLength(Math.ceil(wav.length / MIN_PART_BYTES));
    expect(parts.slice(0, -1).every((bytes) => bytes === MIN_PART_BYTES)).toBe(true);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(wav.length);
    const failed = await jobEnd(jobId);
    expect(failed.status).toBe('failed');
    expect(failed.error.code).toBe('audio_too_long');
    await bucketEmpties();
  });

  describe('a worker killed mid-job', () => {
    let longJob: string;
    // 180 s of speech: 5.8 MB, a multipart upload of two parts
    const longWav = encodeWav(repeatSpeech(jfk, 180));

    it('leaves the stored object in place', async () => {
      ({ jobId: longJob } = await upload(longWav));
      expect(partSizes(longJob)).toEqual([MIN_PART_BYTES, longWav.length - MIN_PART_BYTES]);
      // kill it once it is reading the object (a heartbeat's `busy` can lag the whole job on a fast machine)
      await waitFor('the worker to read the object', async () => (requestsFor(longJob).some((r) => r.method === 'GET') ? true : undefined), 30_000, 20);
      workers[0].child.kill('SIGKILL');
      await waitFor('the worker to die', async () => (workers[0].child.signalCode ? true : undefined));
      expect(await objectSize(longJob)).toBe(longWav.length);
    });

    it('a job cancelled while waiting (no worker running) has its object deleted by the API', async () => {
      const { jobId } = await upload(jfkWav);
      expect(await objectSize(jobId)).toBe(jfkWav.length);
      const cancel = await getJson(`${base}/jobs/${jobId}`, { method: 'DELETE' });
      expect(cancel.status).toBe(200);
      expect(cancel.body.status).toBe('cancelled');
      expect(await objectSize(jobId)).toBeNull();
      expect(requestsFor(jobId).filter((r) => r.method === 'GET')).toEqual([]);
    });

    it('another worker completes the killed job from the stored object, then deletes it', async () => {
      workers.push(startWorker(workerEnv(), 'worker-b'));
      // BullMQ hands a stalled job on once its lock (30 s) has expired, then the whole job runs again
      const done = await jobEnd(longJob, 200_000);
      expect(done.status).toBe('completed');
      expect(done.result.duration).toBeCloseTo(180, 0);
      // read twice: by the killed worker and by the one that finished it
      expect(requestsFor(longJob).filter((r) => r.method === 'GET').length).toBeGreaterThanOrEqual(2);
      await bucketEmpties();
    }, 240_000);
  });

  describe('boot checks', () => {
    const exitOf = (process: RunningProcess) =>
      waitFor(`${process.name} to exit`, async () => (process.child.exitCode !== null ? process.child.exitCode : undefined), 60_000);

    it('a missing bucket stops the API and the worker with a config error naming S3_BUCKET', async () => {
      const env = s3.serviceEnv('no-such-bucket', PREFIX);
      const [apiNoBucket, workerNoBucket] = [startApi(await freePort(), env), startWorker({ ...env, WHISPER_MODEL: 'synthetic-micro' }, 'worker-no-bucket')];
      expect(await exitOf(apiNoBucket)).toBe(1);
      expect(await exitOf(workerNoBucket)).not.toBe(0);
      for (const process of [apiNoBucket, workerNoBucket]) expect(process.output()).toMatch(/Invalid environment variable S3_BUCKET: bucket .*no-such-bucket.* does not exist/);
    });

    it('refused credentials stop the API with a config error naming AWS_ACCESS_KEY_ID', async () => {
      const apiBadKey = startApi(await freePort(), { ...s3.serviceEnv(BUCKET, PREFIX), AWS_ACCESS_KEY_ID: 'NOT-A-KEY' });
      expect(await exitOf(apiBadKey)).toBe(1);
      expect(apiBadKey.output()).toMatch(/Invalid environment variable AWS_ACCESS_KEY_ID: .* refused the credentials/);
    });
  });
});
