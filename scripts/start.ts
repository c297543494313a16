/**
 * `npm start`: the embedded default on one machine — a local Redis when none answers, the API and
 * WORKERS worker processes (default 1).
 *
 * Supervision: a worker that dies is restarted with backoff (1 s, 2 s, 4 s … capped at 30 s) while
 * the API stays up; the job it held is taken over by BullMQ's stalled-job recovery (its lock runs
 * out within 20 s). Five crashes of one worker within a minute mean something is broken for good:
 * logged, and everything stops with exit code 1. The API dying stops everything (exit 1): it holds
 * no work of its own and a crash there is a bug to see, not to hide; run it under a service manager
 * (systemd, Docker's restart policy) for that. Ctrl-C / SIGTERM: every child gets SIGTERM (a worker
 * finishes its job within SHUTDOWN_GRACE_S), then this process exits.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig, ServiceConfig } from '@app/config';
import { ensureLocalRedis } from '@app/redis';
import { RestartPolicy } from './supervisor';

const log = (message: string) => console.log(`[start] ${message}`);
const logError = (message: string) => console.error(`[start] ${message}`);

/** One process the supervisor runs; a worker slot keeps its policy across restarts. */
interface Supervised {
  name: string;
  entry: string;
  /** a dead worker is restarted; the API's death stops everything */
  restart: boolean;
  policy: RestartPolicy;
  child?: ChildProcess;
  startedAt: number;
  restartTimer?: NodeJS.Timeout;
}

let stopping = false;
const processes: Supervised[] = [];

function launch(proc: Supervised): void {
  proc.startedAt = Date.now();
  const child = spawn(process.execPath, ['--expose-gc', proc.entry], { stdio: 'inherit', env: process.env });
  proc.child = child;
  child.on('error', (error) => logError(`${proc.name} could not be started: ${error.message}`));
  child.on('exit', (code, signal) => onExit(proc, child, code, signal));
}

function onExit(proc: Supervised, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
  if (stopping || proc.child !== child) return;
  proc.child = undefined;
  const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
  if (!proc.restart) {
    logError(`${proc.name} (pid ${child.pid}) ${how}: stopping everything`);
    return stop(1);
  }
  const uptimeMs = Date.now() - proc.startedAt;
  const decision = proc.policy.recordCrash(Date.now(), uptimeMs);
  if (decision.action === 'give-up') {
    logError(`${proc.name} (pid ${child.pid}) ${how}; it crashed ${decision.crashesInWindow} times within a minute: giving up, stopping everything`);
    return stop(1);
  }
  log(`${proc.name} (pid ${child.pid}) ${how} after ${Math.round(uptimeMs / 1000)} s; restarting in ${decision.delayMs / 1000} s (crash ${decision.crashesInWindow} within a minute)`);
  proc.restartTimer = setTimeout(() => {
    proc.restartTimer = undefined;
    if (stopping) return;
    launch(proc);
    log(`${proc.name} restarted (pid ${proc.child?.pid})`);
  }, decision.delayMs);
}

/** Every child gets SIGTERM; this process exits once they all have (or after the grace period). */
function stop(exitCode: number, config?: ServiceConfig): void {
  if (stopping) return;
  stopping = true;
  const children: ChildProcess[] = [];
  for (const proc of processes) {
    clearTimeout(proc.restartTimer);
    if (proc.child && proc.child.exitCode === null && proc.child.signalCode === null) children.push(proc.child);
  }
  for (const child of children) child.kill('SIGTERM');
  // a worker may finish its job for SHUTDOWN_GRACE_S before it exits on its own
  const graceMs = ((config ?? loadConfig()).shutdownGraceS + 5) * 1000;
  setTimeout(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    process.exit(exitCode);
  }, graceMs).unref();
  const exited = (child: ChildProcess) =>
    new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
  void Promise.all(children.map(exited)).then(() => process.exit(exitCode));
}

async function main(): Promise<void> {
  const config = loadConfig();
  const outcome = await ensureLocalRedis(config.redisUrl, log);
  if (outcome === 'already-running') log(`using the Redis already running at ${config.redisUrl}`);
  const appsDir = join(__dirname, '..', 'apps');
  for (let n = 1; n <= config.workers; n++) {
    const name = config.workers === 1 ? 'worker' : `worker ${n}`;
    processes.push({ name, entry: join(appsDir, 'worker', 'src', 'main.js'), restart: true, policy: new RestartPolicy(), startedAt: 0 });
  }
  processes.push({ name: 'api', entry: join(appsDir, 'api', 'src', 'main.js'), restart: false, policy: new RestartPolicy(), startedAt: 0 });
  for (const proc of processes) launch(proc);
  const workers = config.workers === 1 ? 'one worker' : `${config.workers} workers`;
  log(
    `API on http://${config.host}:${config.port}${config.host === '127.0.0.1' ? ' (this machine only; HOST=0.0.0.0 to listen on the network)' : ''}, ` +
      `${workers} (DEVICE=${config.device}, WHISPER_MODEL=${config.whisperModel}); a worker that dies is restarted`,
  );
  process.on('SIGINT', () => stop(0, config));
  process.on('SIGTERM', () => stop(0, config));
}

main().catch((error: Error) => {
  logError(error.message);
  process.exit(1);
});
