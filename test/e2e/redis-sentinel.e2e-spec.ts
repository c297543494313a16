/**
 * Redis high availability (issue 14 item 5) end to end: Debian's redis-server and redis-sentinel on
 * loopback (one primary, one replica, three sentinels, nothing on disk), the API and a worker with
 * REDIS_SENTINELS only (their REDIS_URL names a host that does not resolve, so every connection must
 * come from the sentinels). A stream of async jobs goes in; the primary is killed with SIGKILL while
 * they run; the sentinels fail over; the services follow the new primary. Every job answered 202
 * must still complete: with REDIS_REQUIRE_REPLICA_ACK=1 none may be lost (asserted); without it the
 * count is printed (asynchronous replication may lose the last writes before the kill).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { TRANSCRIBE_QUEUE } from '@app/contracts';
import { JFK_WAV } from '../support/samples';
import { freePort, getJson, postTranscribe, RunningProcess, startApi, startWorker, waitFor, waitForHealthy } from '../support/service-harness';
import { MASTER_NAME, SentinelTopology, sentinelAvailable } from '../support/sentinel-topology';

const JOBS = 30;
const SUBMIT_EVERY_MS = 650;
/** the primary dies after this many submissions (jobs are queued and running by then) */
const KILL_AFTER = 8;

interface Submission {
  sentAt: number;
  status: number | 'network-error';
  answeredAt?: number;
  jobId?: string;
}

interface Figures {
  requireAck: boolean;
  submitted: number;
  accepted: number;
  refused503: number;
  otherAnswers: number;
  completed: number;
  failed: number;
  lost: number;
  failoverMs: number;
  /** from the kill to the first 202 answered to a request sent after it */
  firstAcceptAfterKillMs: number | null;
  acceptedAfterKill: number;
}

const available = sentinelAvailable();
if (!available) {
  console.warn('[redis-sentinel e2e] SKIPPED: redis-sentinel is not installed (scripts/setup.sh installs it: apt-get install redis-sentinel)');
}
const describeIfSentinel = available ? describe : describe.skip;

describeIfSentinel('Redis Sentinel: the primary killed while jobs run', () => {
  const jfk = readFileSync(JFK_WAV);
  let topology: SentinelTopology | undefined;
  let api: RunningProcess | undefined;
  let worker: RunningProcess | undefined;

  afterEach(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await topology?.stop();
    api = worker = topology = undefined;
  });

  async function runScenario(requireAck: boolean): Promise<Figures> {
    topology = await SentinelTopology.start();
    const oldPrimaryPort = topology.primary.port;
    const replicaPort = topology.replica.port;
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = {
      // .invalid never resolves: a connection made from REDIS_URL's host instead of the sentinels fails
      REDIS_URL: 'redis://sentinel-managed.invalid:6379/0',
      REDIS_SENTINELS: topology.sentinelList,
      REDIS_SENTINEL_NAME: MASTER_NAME,
      REDIS_REQUIRE_REPLICA_ACK: requireAck ? '1' : '0',
      WHISPER_MODEL: 'synthetic-micro',
    };
    worker = startWorker(env);
    api = startApi(port, env);
    await waitForHealthy(base, 1);

    const submissions: Submission[] = [];
    const answers: Promise<void>[] = [];
    let killedAt = 0;
    let failover: Promise<number> | undefined;
    for (let n = 0; n < JOBS; n++) {
      if (n === KILL_AFTER) {
        topology.killPrimary();
        killedAt = Date.now();
        failover = watchFailover(topology, oldPrimaryPort, killedAt);
      }
      const submission: Submission = { sentAt: Date.now(), status: 'network-error' };
      submissions.push(submission);
      answers.push(
        postTranscribe(base, jfk, { async: 'true' }, 'jfk.wav').then(
          (response) => {
            submission.status = response.status;
            submission.answeredAt = Date.now();
            if (response.status === 202) submission.jobId = response.body.job_id;
          },
          () => undefined,
        ),
      );
      await new Promise((r) => setTimeout(r, SUBMIT_EVERY_MS));
    }
    await Promise.all(answers);
    const failoverMs = await failover!;
    expect(await topology.masterPort()).toBe(replicaPort);

    const accepted = submissions.filter((s) => s.jobId);
    const ends = await Promise.all(accepted.map((s) => finalStatus(base, s.jobId!)));
    const afterKill = accepted.filter((s) => s.sentAt >= killedAt);
    const figures: Figures = {
      requireAck,
      submitted: submissions.length,
      accepted: accepted.length,
      refused503: submissions.filter((s) => s.status === 503).length,
      otherAnswers: submissions.filter((s) => s.status !== 202 && s.status !== 503).length,
      completed: ends.filter((e) => e === 'completed').length,
      failed: ends.filter((e) => e === 'failed').length,
      lost: ends.filter((e) => e === 'lost').length,
      failoverMs,
      firstAcceptAfterKillMs: afterKill.length ? Math.min(...afterKill.map((s) => s.answeredAt!)) - killedAt : null,
      acceptedAfterKill: afterKill.length,
    };
    console.log(`[redis-sentinel e2e] REDIS_REQUIRE_REPLICA_ACK=${requireAck ? 1 : 0}: ${JSON.stringify(figures)}`);
    console.log(`[redis-sentinel e2e] lost jobs (answered 202, never completed): ${figures.lost} of ${figures.accepted}`);

    // neither process died with the primary
    expect(api.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();
    return figures;
  }

  it('REDIS_REQUIRE_REPLICA_ACK=1: every job answered 202 completes; the API and the worker follow the new primary', async () => {
    const figures = await runScenario(true);
    expect(figures.otherAnswers).toBe(0);
    expect(figures.accepted).toBeGreaterThanOrEqual(KILL_AFTER - 1);
    // the API took jobs on the new primary, and the worker ran them
    expect(figures.acceptedAfterKill).toBeGreaterThan(0);
    expect(figures.lost).toBe(0);
    expect(figures.completed).toBe(figures.accepted);
  }, 300_000);

  it('REDIS_REQUIRE_REPLICA_ACK=0: the same failover, the lost-job count printed', async () => {
    const figures = await runScenario(false);
    expect(figures.acceptedAfterKill).toBeGreaterThan(0);
    expect(figures.accepted).toBe(figures.completed + figures.failed + figures.lost);
  }, 300_000);
});

describe('REDIS_REQUIRE_REPLICA_ACK=1 on a Redis without a replica', () => {
  it('answers 503 redis_unavailable and leaves neither the job nor its audio behind', async () => {
    const redisPort = await freePort();
    const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const redisUrl = `redis://127.0.0.1:${redisPort}/0`;
    const api = startApi(port, { REDIS_URL: redisUrl, REDIS_REQUIRE_REPLICA_ACK: '1', REDIS_REPLICA_ACK_TIMEOUT_MS: '300', WHISPER_MODEL: 'synthetic-micro' });
    const client = new Redis(redisUrl);
    const queue = new Queue(TRANSCRIBE_QUEUE, { connection: { host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: null } });
    try {
      await waitFor('the API', async () => ((await fetch(`${base}/health/live`)).ok ? true : undefined), 60_000);
      const started = Date.now();
      const response = await postTranscribe(base, readFileSync(JFK_WAV), { async: 'true' }, 'jfk.wav');
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('redis_unavailable');
      expect(response.body.error.message).toMatch(/replica/);
      // the WAIT timeout, not the 5 s Redis timeout
      expect(Date.now() - started).toBeLessThan(4_000);
      const counts = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'completed', 'failed');
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
      expect(await client.keys('tx:audio:*')).toEqual([]);
    } finally {
      await queue.close();
      client.disconnect();
      await api.stop();
      redis.kill('SIGKILL');
    }
  }, 120_000);
});

/**
 * SENTINEL get-master-addr-by-name until it names another node; a second later the old primary is
 * restarted (empty) as the new primary's replica. Resolves with the failover time.
 */
async function watchFailover(topology: SentinelTopology, oldPrimaryPort: number, killedAt: number): Promise<number> {
  const newPrimaryPort = await waitFor('the sentinels to promote the replica', async () => {
    const port = await topology.masterPort();
    return port !== undefined && port !== oldPrimaryPort ? port : undefined;
  }, 60_000, 100);
  const failoverMs = Date.now() - killedAt;
  console.log(`[redis-sentinel e2e] failover: the sentinels named the new primary ${failoverMs} ms after the kill`);
  await new Promise((r) => setTimeout(r, 1_000));
  await topology.restartOldPrimaryAsReplicaOf(newPrimaryPort);
  return failoverMs;
}

/** completed | failed once the job ends; lost when it is gone (404) or never ends within the wait. */
async function finalStatus(base: string, jobId: string): Promise<'completed' | 'failed' | 'lost'> {
  try {
    return await waitFor(`job ${jobId} to end`, async () => {
      const { status, body } = await getJson(`${base}/jobs/${jobId}`);
      if (status === 404) return 'lost' as const;
      if (status !== 200) return undefined;
      if (body.status === 'completed') return 'completed' as const;
      if (body.status === 'failed' || body.status === 'cancelled') return 'failed' as const;
      return undefined;
    }, 120_000, 500);
  } catch {
    return 'lost';
  }
}
