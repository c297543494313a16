/**
 * GET /metrics end to end (issue 13, item 1): a real API, worker, Redis and whisper.cpp. Reads the
 * Prometheus text, runs a job, reads again and checks that the API's figures (HTTP, accepted jobs,
 * queue depth, workers) and the worker's (job outcomes, stage histograms, audio seconds, model
 * cache, published through Redis and labelled with worker_id) moved as they should. METRICS_TOKEN
 * guards it here: 401 without it, 403 with another token.
 */
import { readFileSync } from 'node:fs';
import { MetricNames, QUEUE_STATES } from '@app/contracts';
import { parsePrometheusText, Exposition, matching, sumOf } from '../support/prometheus-text';
import { JFK_MP3, JFK_WAV } from '../support/samples';
import { freePort, getJson, postTranscribe, RunningProcess, ServiceStack, startApi, startStack, waitFor } from '../support/service-harness';

const TOKEN = 'metrics-test-token';
const JFK_SECONDS = 11;

describe('GET /metrics', () => {
  let stack: ServiceStack;
  let base: string;
  let workerId: string;

  const scrape = async (at = base): Promise<Exposition> => {
    const response = await fetch(`${at}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    return parsePrometheusText(await response.text());
  };

  beforeAll(async () => {
    stack = await startStack({ WHISPER_MODEL: 'synthetic-micro' }, { WHISPER_MODEL: 'synthetic-micro', METRICS_TOKEN: TOKEN });
    base = stack.base;
    // the worker's first snapshot is written at boot: its figures carry its worker_id
    workerId = await waitFor('a worker metrics snapshot', async () => matching(await scrape(), MetricNames.workerActiveJobs)[0]?.labels.worker_id);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('needs METRICS_TOKEN when it is set: 401 without a token, 403 with another, 200 in the text format with it', async () => {
    const without = await getJson(`${base}/metrics`);
    expect(without.status).toBe(401);
    expect(without.body.error.code).toBe('unauthorized');
    const wrong = await getJson(`${base}/metrics`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('forbidden');
    const right = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    // Express puts the charset first; Prometheus reads the parameters in any order
    expect(right.headers.get('content-type')?.split(/;\s*/).sort()).toEqual(['charset=utf-8', 'text/plain', 'version=0.0.4']);
    const text = await right.text();
    expect(text).toMatch(/^# HELP tx_http_requests_total /m);
    // the refusals above were counted under the route pattern, with their status
    const parsed = parsePrometheusText(text);
    expect(sumOf(parsed, MetricNames.httpRequests, { method: 'GET', route: '/metrics', status: '401' })).toBeGreaterThanOrEqual(1);
    expect(sumOf(parsed, MetricNames.httpRequests, { method: 'GET', route: '/metrics', status: '403' })).toBeGreaterThanOrEqual(1);
  });

  it('a transcription moves the HTTP, job, stage, audio and model cache figures (the last ones from the worker, by worker_id)', async () => {
    const before = await scrape();
    const response = await postTranscribe(base, readFileSync(JFK_WAV), {}, 'jfk.wav');
    expect(response.status).toBe(200);
    // the worker publishes right after the job: wait for its snapshot to show it
    const after = await waitFor('the completed job in /metrics', async () => {
      const now = await scrape();
      return sumOf(now, MetricNames.jobsCompleted) > sumOf(before, MetricNames.jobsCompleted) ? now : undefined;
    }, 30_000, 500);
    const moved = (name: string, where: Record<string, string> = {}) => sumOf(after, name, where) - sumOf(before, name, where);

    // the API's own figures
    expect(moved(MetricNames.httpRequests, { method: 'POST', route: '/transcribe', status: '200' })).toBe(1);
    expect(moved(`${MetricNames.httpRequestDuration}_count`, { method: 'POST', route: '/transcribe', status: '200' })).toBe(1);
    expect(moved(MetricNames.jobsAccepted, { kind: 'transcribe' })).toBe(1);
    // the worker's, each with its worker_id
    const worker = { worker_id: workerId };
    expect(moved(MetricNames.jobsCompleted, { ...worker, kind: 'transcribe', model: 'synthetic-micro' })).toBe(1);
    for (const stage of ['queued', 'decode', 'transcribe']) {
      expect(moved(`${MetricNames.jobStageDuration}_count`, { ...worker, stage, model: 'synthetic-micro' })).toBe(1);
    }
    expect(moved(MetricNames.audioProcessedSeconds, worker)).toBeCloseTo(JFK_SECONDS, 0);
    expect(moved(MetricNames.jobProcessingSeconds, worker)).toBeGreaterThan(0);
    expect(moved(`${MetricNames.jobRealtimeFactor}_count`, worker)).toBe(1);
    // the default model was loaded at boot (the snapshot taken before may predate that load): this
    // job's whisper model came from the cache
    expect(sumOf(after, MetricNames.modelCacheLoads, { ...worker, cache: 'whisper', result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(moved(MetricNames.modelCacheHits, { ...worker, cache: 'whisper' })).toBeGreaterThanOrEqual(1);
    expect(sumOf(after, MetricNames.modelLoadedBytes, { ...worker, cache: 'whisper' })).toBeGreaterThan(0);
    // read at scrape time
    for (const state of QUEUE_STATES) expect(matching(after, MetricNames.queueJobs, { state })).toHaveLength(1);
    expect(sumOf(after, MetricNames.queueJobs, { state: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(sumOf(after, MetricNames.workers)).toBe(1);
    expect(matching(after, MetricNames.workersBusy)).toHaveLength(1);
    // the default process figures of both processes: the API's without a label, the worker's with its id
    expect(matching(after, 'process_resident_memory_bytes').map((sample) => sample.labels.worker_id)).toEqual([undefined, workerId]);
    expect(after.types.get(MetricNames.jobStageDuration)).toBe('histogram');
    expect(after.types.get(MetricNames.jobsCompleted)).toBe('counter');
  });

  it('a job on corrupt audio counts as failed with its code; routes are patterns, never raw URLs', async () => {
    const before = await scrape();
    const jfkMp3 = readFileSync(JFK_MP3);
    const accepted = await postTranscribe(base, jfkMp3.subarray(0, Math.floor(jfkMp3.length / 2)), { async: 'true' }, 'broken.mp3');
    expect(accepted.status).toBe(202);
    const jobId: string = accepted.body.job_id;
    const done = await waitFor('the job to fail', async () => {
      const { body } = await getJson(`${base}/jobs/${jobId}`);
      return body.status === 'failed' ? body : undefined;
    });
    expect(done.error.code).toBe('invalid_audio');
    await fetch(`${base}/no/such/route/${jobId}`);
    const after = await waitFor('the failed job in /metrics', async () => {
      const now = await scrape();
      return sumOf(now, MetricNames.jobsFailed) > sumOf(before, MetricNames.jobsFailed) ? now : undefined;
    }, 30_000, 500);
    const moved = (name: string, where: Record<string, string> = {}) => sumOf(after, name, where) - sumOf(before, name, where);

    expect(moved(MetricNames.jobsFailed, { worker_id: workerId, kind: 'transcribe', code: 'invalid_audio' })).toBe(1);
    expect(moved(MetricNames.jobsCompleted)).toBe(0);
    expect(moved(MetricNames.httpRequests, { method: 'POST', route: '/transcribe', status: '202' })).toBe(1);
    expect(moved(MetricNames.httpRequests, { method: 'GET', route: '/jobs/:id', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(moved(MetricNames.httpRequests, { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    const routes = new Set(matching(after, MetricNames.httpRequests).map((sample) => sample.labels.route));
    expect([...routes].filter((route) => route.includes(jobId))).toEqual([]);
  });

  it('with two API replicas, each job is accepted once and a cancelled waiting job is counted once cluster-wide', async () => {
    const port = await freePort();
    const second = `http://127.0.0.1:${port}`;
    let replica: RunningProcess | undefined = startApi(port, { WHISPER_MODEL: 'synthetic-micro', METRICS_TOKEN: TOKEN });
    try {
      await waitFor('the second API replica', async () => ((await fetch(`${second}/health/live`).catch(() => undefined))?.ok ? true : undefined));
      const total = (name: string, where: Record<string, string>, [a, b]: Exposition[]) => sumOf(a, name, where) + sumOf(b, name, where);
      const before = [await scrape(base), await scrape(second)];
      const jfk = readFileSync(JFK_WAV);
      // the worker runs one job at a time: the last of three submitted at once is still waiting
      const ids: string[] = [];
      for (const at of [base, second, second]) {
        const accepted = await postTranscribe(at, jfk, { async: 'true' }, 'jfk.wav');
        expect(accepted.status).toBe(202);
        ids.push(accepted.body.job_id);
      }
      const { body: waiting } = await getJson(`${second}/jobs/${ids[2]}`);
      const cancelled = await getJson(`${base}/jobs/${ids[2]}`, { method: 'DELETE' });
      expect(cancelled.body.status).toBe('cancelled');
      for (const id of ids.slice(0, 2)) {
        await waitFor(`job ${id}`, async () => ((await getJson(`${base}/jobs/${id}`)).body.status === 'completed' ? true : undefined), 60_000, 500);
      }
      // each replica shows every worker's figures (from Redis) and only its own API figures
      const waitingCancels = (scrapes: Exposition[]) => total(MetricNames.jobsCancelled, { state: 'waiting' }, scrapes);
      const after = await waitFor('both jobs and the cancel in /metrics', async () => {
        const now = [await scrape(base), await scrape(second)];
        const done = sumOf(now[0], MetricNames.jobsCompleted) - sumOf(before[0], MetricNames.jobsCompleted) >= 2;
        return done && waitingCancels(now) > waitingCancels(before) ? now : undefined;
      }, 30_000, 500);

      // each replica counts the jobs it put on the queue: 1 + 2, never 3 + 3
      expect(sumOf(after[0], MetricNames.jobsAccepted) - sumOf(before[0], MetricNames.jobsAccepted)).toBe(1);
      expect(sumOf(after[1], MetricNames.jobsAccepted) - sumOf(before[1], MetricNames.jobsAccepted)).toBe(2);
      // the worker's figures reach both replicas alike
      expect(sumOf(after[0], MetricNames.jobsCompleted) - sumOf(before[0], MetricNames.jobsCompleted)).toBe(2);
      expect(sumOf(after[1], MetricNames.jobsCompleted) - sumOf(before[1], MetricNames.jobsCompleted)).toBe(2);
      // the third job was still waiting (one job at a time, each takes seconds): both replicas heard
      // its removal, one of them counted it; the worker never saw it
      expect(waiting.status).toBe('queued');
      expect(waitingCancels(after) - waitingCancels(before)).toBe(1);
      const activeCancels = (scrape: Exposition) => sumOf(scrape, MetricNames.jobsCancelled, { state: 'active' });
      expect(activeCancels(after[0]) - activeCancels(before[0])).toBe(0);
    } finally {
      await replica?.stop();
      replica = undefined;
    }
  });
});
