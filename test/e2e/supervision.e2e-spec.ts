/**
 * `npm start` (dist/scripts/start.js) supervises its workers: a worker killed with SIGKILL mid-job
 * is restarted while the API keeps answering, and the job it held completes on the new worker
 * (BullMQ's stalled-job recovery); WORKERS=2 runs two workers; a worker that cannot boot is
 * restarted with backoff until the fifth crash within a minute, then everything stops with exit 1;
 * SIGTERM stops every child and exits 0.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JFK_WAV } from '../support/samples';
import { freePort, getJson, MODEL_DIR, postTranscribe, prepareRedis, REPO_ROOT, TEST_REDIS_URL, waitFor, waitForHealthy } from '../support/service-harness';
import { encodeWav, readPcm16Wav, repeatSpeech } from '../support/wav';

const START_JS = join(REPO_ROOT, 'dist', 'scripts', 'start.js');

interface Supervisor {
  child: ChildProcess;
  base: string;
  output: () => string;
  /** resolves with the exit code (or signal) once start.js has exited */
  exited: Promise<number | string | null>;
}

async function startSupervisor(env: Record<string, string>): Promise<Supervisor> {
  await prepareRedis();
  const port = await freePort();
  const child = spawn(process.execPath, [START_JS], {
    env: { ...process.env, REDIS_URL: TEST_REDIS_URL, MODEL_DIR, PORT: String(port), WHISPER_THREADS: '2', WHISPER_MODEL: 'synthetic-tiny', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 400_000) output = output.slice(-200_000);
    if (process.env.SHOW_SERVICE_LOGS) process.stdout.write(`[start] ${chunk}`);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return { child, base: `http://127.0.0.1:${port}`, output: () => output, exited };
}

/** SIGTERM, as a service manager would send it; SIGKILL after 40 s so a failing test leaves nothing behind. */
async function stopSupervisor(supervisor: Supervisor | undefined): Promise<number | string | null | undefined> {
  if (!supervisor) return undefined;
  if (supervisor.child.exitCode === null && supervisor.child.signalCode === null) supervisor.child.kill('SIGTERM');
  const timer = setTimeout(() => supervisor.child.kill('SIGKILL'), 40_000);
  const code = await supervisor.exited;
  clearTimeout(timer);
  return code;
}

interface HealthWorker {
  worker_id: string;
  busy: boolean;
}

/** The pid in a worker id (hostname-pid-random, see apps/worker/src/control/worker-identity.ts). */
const pidOf = (workerId: string): number => Number(/-(\d+)-[0-9a-f]{4}$/.exec(workerId)?.[1]);

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls /health/live every 200 ms until stopped; returns every status it saw. */
function pollLiveness(base: string): { stop: () => Promise<number[]> } {
  const statuses: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        statuses.push((await fetch(`${base}/health/live`, { signal: AbortSignal.timeout(2_000) })).status);
      } catch {
        statuses.push(0);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return statuses;
    },
  };
}

describe('npm start supervises its workers', () => {
  const longWav = encodeWav(repeatSpeech(readPcm16Wav(readFileSync(JFK_WAV)), 150));
  let supervisor: Supervisor | undefined;

  afterEach(async () => {
    await stopSupervisor(supervisor);
    supervisor = undefined;
  });

  it('kill -9 of the worker mid-job: the API keeps answering, a new worker starts and the job completes', async () => {
    supervisor = await startSupervisor({});
    const { base } = supervisor;
    await waitForHealthy(base, 1);
    const { status, body } = await postTranscribe(base, longWav, { async: 'true', allowed_languages: 'en' });
    expect(status).toBe(202);
    const busy = await waitFor('the worker to run the job', async () => {
      const { body: health } = await getJson(`${base}/health`);
      return (health.workers as HealthWorker[]).find((w) => w.busy);
    });
    const victim = pidOf(busy.worker_id);
    expect(isRunning(victim)).toBe(true);
    expect((await getJson(`${base}/jobs/${body.job_id}`)).body.status).toBe('active');

    const liveness = pollLiveness(base);
    const killedAt = Date.now();
    process.kill(victim, 'SIGKILL');
    // the supervisor restarts it (after 1 s): a worker with another pid beats
    const replacement = await waitFor('a new worker', async () => {
      const { body: health } = await getJson(`${base}/health`);
      return (health.workers as HealthWorker[]).find((w) => pidOf(w.worker_id) !== victim);
    }, 60_000, 250);
    const restartedAfterMs = Date.now() - killedAt;
    const done = await waitFor('the job to complete on the new worker', async () => {
      const { body: job } = await getJson(`${base}/jobs/${body.job_id}`);
      if (job.status === 'failed') throw new Error(JSON.stringify(job.error));
      return job.status === 'completed' ? job : undefined;
    }, 150_000, 500);
    const statuses = await liveness.stop();
    console.log(
      `worker pid ${victim} killed; new worker ${replacement.worker_id} beating after ${restartedAfterMs} ms; ` +
        `job completed ${Date.now() - killedAt} ms after the kill; /health/live answered ${statuses.filter((s) => s === 200).length}/${statuses.length} probes`,
    );
    expect(done.result.duration).toBeCloseTo(150, 0);
    // the API never went away: every liveness probe during the outage answered 200
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(isRunning(victim)).toBe(false);
    expect(isRunning(pidOf(replacement.worker_id))).toBe(true);
    expect(supervisor.output()).toMatch(new RegExp(`worker \\(pid ${victim}\\) killed by SIGKILL after \\d+ s; restarting in 1 s`));
    expect(supervisor.child.exitCode).toBeNull();
  }, 300_000);

  it('WORKERS=2: /health lists two workers; SIGTERM stops them both and exits 0', async () => {
    supervisor = await startSupervisor({ WORKERS: '2', WHISPER_MODEL: 'synthetic-micro' });
    const workers = await waitForHealthy(supervisor.base, 2);
    const pids = workers.map((w) => pidOf(w.worker_id));
    expect(new Set(pids).size).toBe(2);
    for (const pid of pids) expect(isRunning(pid)).toBe(true);
    expect(supervisor.output()).toMatch(/2 workers/);
    const code = await stopSupervisor(supervisor);
    expect(code).toBe(0);
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
  }, 180_000);

  it('a worker that cannot start is restarted with backoff, then the fifth crash within a minute stops everything with exit 1', async () => {
    // the API accepts any WHISPER_MODEL; the worker's boot check refuses one that does not exist
    supervisor = await startSupervisor({ WHISPER_MODEL: 'no-such-model' });
    const liveness = pollLiveness(supervisor.base);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([supervisor.exited, new Promise((resolve) => (timer = setTimeout(() => resolve('still running'), 120_000)))]);
    clearTimeout(timer);
    const statuses = await liveness.stop();
    const output = supervisor.output();
    expect(code).toBe(1);
    expect(output.match(/restarting in (\d+) s/g)).toEqual(['restarting in 1 s', 'restarting in 2 s', 'restarting in 4 s', 'restarting in 8 s']);
    expect(output).toMatch(/crashed 5 times within a minute: giving up, stopping everything/);
    // the API answered while the worker was being restarted
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(10);
  }, 180_000);
});
