/**
 * Redis Cluster (issue 14 item 5) end to end: three cluster masters of Debian's redis-server on
 * loopback ports 7101-7103 (nothing on disk), joined with `redis-cli --cluster create`, and the real
 * API and worker with REDIS_CLUSTER_NODES. Their REDIS_URL names a host that never resolves, so
 * every connection must be a cluster client built from the seed nodes. QUEUE_PREFIX is left unset:
 * cluster mode defaults it to {bull}. Besides transcription it covers the routes whose keys spread
 * over the masters: GET /jobs (job hashes in the {bull} slot, cancel marks anywhere), the SSE event
 * stream, DELETE of a queued and a running job, /metrics and GET /models.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import Redis, { Cluster } from 'ioredis';
import { RedisChunkedBlobStore } from '@app/blob-store';
import { MetricNames, RedisKeys, TRANSCRIBE_QUEUE } from '@app/contracts';
import { replicasAcknowledged } from '@app/redis';
import { parsePrometheusText, matching, sumOf } from '../support/prometheus-text';
import { JFK_WAV } from '../support/samples';
import { freePort, getJson, postTranscribe, RunningProcess, startApi, startWorker, waitFor, waitForHealthy } from '../support/service-harness';
import { encodeWav, readPcm16Wav, repeatSpeech } from '../support/wav';
import { commandOnPort } from '../support/redis-node';

const PORTS = [7101, 7102, 7103];
const SEEDS = PORTS.map((port) => `127.0.0.1:${port}`).join(',');
const ADMIN_TOKEN = 'cluster-admin-token';

const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const available = has('redis-server') && has('redis-cli');
if (!available) {
  console.warn('[redis-cluster e2e] SKIPPED: redis-server / redis-cli are not installed (scripts/setup.sh installs them: apt-get install redis-server)');
}
const describeIfRedis = available ? describe : describe.skip;

/** One command on a short-lived plain connection to one node. */
const nodeCommand = commandOnPort;

/** The frames of a whole SSE response (read until the server ends it): event name and parsed data. */
function sseEvents(text: string): { event: string; data: any }[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim() !== '' && !frame.startsWith(':'))
    .map((frame) => {
      const fields = Object.fromEntries(frame.split('\n').map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]));
      return { event: fields.event, data: JSON.parse(fields.data) };
    });
}

describeIfRedis('Redis Cluster: the services on three cluster masters', () => {
  const jfk = readFileSync(JFK_WAV);
  const dir = mkdtempSync(join(tmpdir(), 'tx-cluster-'));
  const nodes: ChildProcess[] = [];
  /** keyspace events of tx:audio:* keys, per node (notifications are node-local) */
  const audioEvents: { port: number; key: string; event: string }[] = [];
  const watchers: Redis[] = [];
  let cluster: Cluster;
  let api: RunningProcess;
  let worker: RunningProcess;
  let base: string;
  let workerId: string;

  beforeAll(async () => {
    for (const port of PORTS) {
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      const child = spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', nodeDir, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
        '--cluster-node-timeout', '5000', '--save', '', '--appendonly', 'no',
      ], { stdio: 'ignore' });
      nodes.push(child);
    }
    for (const port of PORTS) {
      await waitFor(`cluster node ${port}`, async () => ((await nodeCommand(port, ['PING'])) === 'PONG' ? true : undefined), 15_000, 100);
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...SEEDS.split(','), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    for (const port of PORTS) {
      await waitFor(`cluster_state:ok on ${port}`, async () => (String(await nodeCommand(port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok') ? true : undefined), 30_000, 200);
    }
    for (const port of PORTS) {
      // K: keyspace channel, g: DEL/EXPIRE, $: SET, x: expired
      await nodeCommand(port, ['CONFIG', 'SET', 'notify-keyspace-events', 'Kg$x']);
      const watcher = new Redis({ host: '127.0.0.1', port });
      watcher.on('pmessage', (_pattern: string, channel: string, event: string) => audioEvents.push({ port, key: channel.replace(/^__keyspace@0__:/, ''), event }));
      await watcher.psubscribe('__keyspace@0__:tx:audio:*');
      watchers.push(watcher);
    }
    cluster = new Cluster(PORTS.map((port) => ({ host: '127.0.0.1', port })));

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      // .invalid never resolves: a plain connection made from REDIS_URL's host instead of the cluster fails
      REDIS_URL: 'redis://cluster-managed.invalid:6379',
      REDIS_CLUSTER_NODES: SEEDS,
      WHISPER_MODEL: 'synthetic-micro',
      ADMIN_TOKEN,
    };
    worker = startWorker(env);
    api = startApi(port, env);
    [{ worker_id: workerId }] = await waitForHealthy(base, 1, 120_000);
  }, 240_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    for (const watcher of watchers) watcher.disconnect();
    cluster?.disconnect();
    for (const child of nodes) child.kill('SIGKILL');
    await Promise.all(nodes.map((child) => (child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((r) => child.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  afterEach(() => {
    // no test may bring a process down
    expect(api.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();
  });

  /** Polls GET /jobs/:id until the job's status is one of `statuses`. */
  function whenStatus(jobId: string, statuses: string[], timeoutMs = 120_000): Promise<any> {
    return waitFor(`job ${jobId} ${statuses.join('/')}`, async () => {
      const { body } = await getJson(`${base}/jobs/${jobId}`);
      return statuses.includes(body.status) ? body : undefined;
    }, timeoutMs);
  }

  /** tx:audio:* keys left on any master (KEYS on a cluster client asks only one node). */
  async function audioKeysOnCluster(): Promise<string[]> {
    const perNode = await Promise.all(cluster.nodes('master').map((node) => node.keys('tx:audio:*')));
    return perNode.flat();
  }

  it('/health is ok: Redis up, the worker registered', async () => {
    const { status, body } = await getJson(`${base}/health`);
    expect(status).toBe(200);
    expect(body.redis).toBe('up');
    expect(body.workers).toHaveLength(1);
  });

  it('transcribes jfk.wav synchronously; the queue lives under the {bull} hash tag', async () => {
    const { status, body } = await postTranscribe(base, jfk, {}, 'jfk.wav');
    expect(status).toBe(200);
    expect(body.duration).toBeCloseTo(11.0, 1);
    expect(body.model).toBe('synthetic-micro');
    // QUEUE_PREFIX unset: cluster mode made it {bull}, so every BullMQ key of the queue is in one slot
    expect(await cluster.exists(`{bull}:${TRANSCRIBE_QUEUE}:meta`)).toBe(1);
    expect(await cluster.exists(`bull:${TRANSCRIBE_QUEUE}:meta`)).toBe(0);
  }, 120_000);

  it('an async job completes through polling; its audio was written to the cluster and removed', async () => {
    const accepted = await postTranscribe(base, jfk, { async: 'true' }, 'jfk.wav');
    expect(accepted.status).toBe(202);
    const jobId: string = accepted.body.job_id;
    const done = await waitFor('job completion', async () => {
      const { body } = await getJson(`${base}/jobs/${jobId}`);
      return body.status === 'completed' || body.status === 'failed' ? body : undefined;
    }, 120_000);
    expect(done.status).toBe('completed');
    expect(done.result.duration).toBeCloseTo(11.0, 1);
    // the chunk(s) and the manifest were SET on the cluster, then deleted (not left to expire)
    const mine = await waitFor('the audio deletion events', async () => {
      const events = audioEvents.filter((e) => e.key.startsWith(`tx:audio:${jobId}`));
      return events.some((e) => e.key === `tx:audio:${jobId}` && e.event === 'del') ? events : undefined;
    }, 20_000);
    expect(mine).toEqual(expect.arrayContaining([
      expect.objectContaining({ key: `tx:audio:${jobId}:0`, event: 'set' }),
      expect.objectContaining({ key: `tx:audio:${jobId}`, event: 'set' }),
      expect.objectContaining({ key: `tx:audio:${jobId}:0`, event: 'del' }),
    ]));
    expect(await audioKeysOnCluster()).toEqual([]);
  }, 180_000);

  it('the chunked audio store spreads a blob over the masters and deletes it without cross-slot commands', async () => {
    const store = new RedisChunkedBlobStore(cluster as unknown as Redis, 1_000);
    const bytes = randomBytes(70_500);
    const jobId = `cluster-${randomBytes(6).toString('hex')}`;
    async function* pieces(): AsyncIterable<Buffer> {
      for (let at = 0; at < bytes.length; at += 4_000) yield bytes.subarray(at, at + 4_000);
    }
    await store.write(jobId, pieces(), { ttlSeconds: 60 });
    const owners = await Promise.all(cluster.nodes('master').map(async (node) => (await node.keys(`tx:audio:${jobId}*`)).length));
    expect(owners.reduce((a, b) => a + b, 0)).toBe(72); // 71 chunks + the manifest
    expect(owners.filter((n) => n > 0).length).toBeGreaterThan(1);
    const read: Buffer[] = [];
    for await (const chunk of store.read(jobId)) read.push(chunk);
    expect(Buffer.concat(read).equals(bytes)).toBe(true);
    await store.delete(jobId);
    expect(await audioKeysOnCluster()).toEqual([]);
  }, 60_000);

  it('POST /gc reaches the worker over pub/sub', async () => {
    const { status, body } = await getJson(`${base}/gc`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(status).toBe(200);
    expect(body.workers).toHaveLength(1);
    expect(body.workers[0].status).toBeUndefined();
    // the earlier transcriptions loaded synthetic-micro
    expect(body.workers[0].models_unloaded).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it("WAIT for replicas asks every master on the queue's own connections", async () => {
    const queue = new Queue(TRANSCRIBE_QUEUE, { connection: cluster, prefix: '{bull}' });
    try {
      const client = await queue.client;
      // no replicas in this cluster: 0 acknowledge, answered within the timeout, no error
      const started = Date.now();
      expect(await replicasAcknowledged(client, 0, 200)).toBe(0);
      expect(await replicasAcknowledged(client, 1, 200)).toBe(0);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await queue.close();
    }
  }, 30_000);

  it('GET /jobs lists the jobs, newest first, read from job hashes and index entries on different masters', async () => {
    const first = (await postTranscribe(base, jfk, { async: 'true' }, 'first.wav')).body.job_id as string;
    const second = (await postTranscribe(base, jfk, { async: 'true' }, 'second.wav')).body.job_id as string;
    await whenStatus(first, ['completed']);
    await whenStatus(second, ['completed']);
    const { status, body } = await getJson(`${base}/jobs?limit=100`);
    expect(status).toBe(200);
    const ids = body.jobs.map((job: any) => job.job_id);
    expect(ids.indexOf(second)).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf(second)).toBeLessThan(ids.indexOf(first));
    expect(body.jobs.find((job: any) => job.job_id === first)).toMatchObject({ status: 'completed', stage: 'done', file_name: 'first.wav', duration: expect.closeTo(11.0, 1) });
    // a cursor pages on
    const page = await getJson(`${base}/jobs?limit=1`);
    expect(page.body.jobs.map((job: any) => job.job_id)).toEqual([ids[0]]);
    const next = await getJson(`${base}/jobs?limit=1&cursor=${encodeURIComponent(page.body.next_cursor)}`);
    expect(next.status).toBe(200);
    expect(next.body.jobs.map((job: any) => job.job_id)).toEqual([ids[1]]);
  }, 180_000);

  it('GET /jobs/:id/events streams a job to its completed event over the job stream on the cluster', async () => {
    const accepted = await postTranscribe(base, jfk, { async: 'true' }, 'jfk.wav');
    expect(accepted.status).toBe(202);
    const jobId: string = accepted.body.job_id;
    const response = await fetch(`${base}/jobs/${jobId}/events`, { headers: { accept: 'text/event-stream' }, signal: AbortSignal.timeout(120_000) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // the server ends the response after the job's final event
    const events = sseEvents(await response.text());
    expect(events.filter((e) => e.event === 'completed')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({
      event: 'completed',
      data: { job_id: jobId, status: 'completed', stage: 'done', result: { duration: expect.closeTo(11.0, 1) } },
    });
    expect(events.some((e) => e.event === 'segment')).toBe(true);
  }, 180_000);

  it('DELETE /jobs/:id of a queued job cancels it: listed as cancelled from its mark; the running one is stopped too', async () => {
    // the single worker busy with 10 min of speech: the next job waits
    const busy = (await postTranscribe(base, encodeWav(repeatSpeech(readPcm16Wav(jfk), 600, 2)), { async: 'true' }, 'long.wav')).body.job_id as string;
    await whenStatus(busy, ['active']);
    // its event stream, open meanwhile, reads over a cluster duplicate named as the API names it
    // (node connections open on first use: the stream's master has one)
    const watching = new AbortController();
    const stream = await fetch(`${base}/jobs/${busy}/events`, { headers: { accept: 'text/event-stream' }, signal: watching.signal });
    expect(stream.status).toBe(200);
    const named = await waitFor('the event reader on the masters', async () => {
      const lists = await Promise.all(cluster.nodes('master').map((node) => node.client('LIST') as Promise<string>));
      return lists.some((list) => / name=api-job-events /.test(list)) ? true : undefined;
    }, 10_000);
    expect(named).toBe(true);
    watching.abort();
    const queued = (await postTranscribe(base, jfk, { async: 'true' }, 'cancel-me.wav')).body.job_id as string;
    expect((await getJson(`${base}/jobs/${queued}`)).body.status).toBe('queued');
    const cancel = await getJson(`${base}/jobs/${queued}`, { method: 'DELETE' });
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelled');
    // removed from the queue: its mark (on whichever master owns its slot) is what is left
    expect(await cluster.exists(RedisKeys.cancelled(queued))).toBe(1);
    expect((await getJson(`${base}/jobs/${queued}`)).body).toMatchObject({ status: 'cancelled' });
    const listed = await getJson(`${base}/jobs?status=cancelled`);
    expect(listed.status).toBe(200);
    expect(listed.body.jobs.map((job: any) => job.job_id)).toEqual([queued]);
    expect(listed.body.jobs[0]).toMatchObject({ error: { code: 'job_cancelled' } });
    // a second DELETE: already cancelled
    expect((await getJson(`${base}/jobs/${queued}`, { method: 'DELETE' })).status).toBe(409);
    // the running one: its worker hears the cancel over pub/sub
    expect((await getJson(`${base}/jobs/${busy}`, { method: 'DELETE' })).status).toBe(200);
    await whenStatus(busy, ['cancelled'], 60_000);
    expect((await getJson(`${base}/jobs?status=cancelled`)).body.jobs.map((job: any) => job.job_id)).toEqual([queued, busy]);
  }, 240_000);

  it("/metrics answers 200 with the worker's figures under its worker_id and the queue's counts", async () => {
    const scrape = async () => {
      const response = await fetch(`${base}/metrics`);
      expect(response.status).toBe(200);
      return parsePrometheusText(await response.text());
    };
    const before = await scrape();
    expect((await postTranscribe(base, jfk, {}, 'jfk.wav')).status).toBe(200);
    const worker = { worker_id: workerId, kind: 'transcribe', model: 'synthetic-micro' };
    const after = await waitFor('the completed job in /metrics', async () => {
      const now = await scrape();
      return sumOf(now, MetricNames.jobsCompleted, worker) > sumOf(before, MetricNames.jobsCompleted, worker) ? now : undefined;
    }, 30_000, 500);
    expect(sumOf(after, MetricNames.jobsCompleted, worker) - sumOf(before, MetricNames.jobsCompleted, worker)).toBe(1);
    expect(matching(after, MetricNames.workerActiveJobs).map((sample) => sample.labels.worker_id)).toEqual([workerId]);
    expect(sumOf(after, MetricNames.workers)).toBe(1);
    // the API's count of the waiting job DELETE removed in the test above (its queue events came through the cluster)
    expect(sumOf(after, MetricNames.jobsCancelled, { kind: 'transcribe', state: 'waiting' })).toBe(1);
    // BullMQ's counts, read at scrape time from the {bull} slot
    expect(sumOf(after, MetricNames.queueJobs, { state: 'completed' })).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('GET /models lists the models the worker has, from its heartbeat on the cluster', async () => {
    const { status, body } = await getJson(`${base}/models`);
    expect(status).toBe(200);
    expect(body.workers.map((w: any) => w.worker_id)).toEqual([workerId]);
    expect(body.models.find((m: any) => m.name === 'synthetic-micro')).toMatchObject({ official: false, local_on: [workerId] });
    expect(body.models.find((m: any) => m.name === 'large-v3')).toMatchObject({ official: true, local_on: [], loaded_on: [] });
  }, 30_000);
});
