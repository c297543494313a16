/**
 * Redis Cluster (issue 14 item 5) end to end: three cluster masters of Debian's redis-server on
 * loopback ports 7101-7103 (nothing on disk), joined with `redis-cli --cluster create`, and the real
 * API and worker with REDIS_CLUSTER_NODES. Their REDIS_URL names a host that never resolves, so
 * every connection must be a cluster client built from the seed nodes. QUEUE_PREFIX is left unset:
 * cluster mode defaults it to {bull}.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import Redis, { Cluster } from 'ioredis';
import { RedisChunkedBlobStore } from '@app/blob-store';
import { TRANSCRIBE_QUEUE } from '@app/contracts';
import { replicasAcknowledged } from '@app/redis';
import { JFK_WAV } from '../support/samples';
import { freePort, getJson, postTranscribe, RunningProcess, startApi, startWorker, waitFor, waitForHealthy } from '../support/service-harness';

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
async function nodeCommand(port: number, args: string[]): Promise<unknown> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000, commandTimeout: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(args[0], ...args.slice(1));
  } finally {
    client.disconnect();
  }
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
    await waitForHealthy(base, 1, 120_000);
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
});
