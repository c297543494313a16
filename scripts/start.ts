/**
 * `npm start`: the embedded default on one machine — a local Redis when none answers, the API and
 * one worker as separate processes. Stops everything when one of them dies or on Ctrl-C.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '@app/config';
import { ensureLocalRedis } from '@app/redis';

const log = (message: string) => console.log(`[start] ${message}`);

function launch(name: string, entry: string): ChildProcess {
  const child = spawn(process.execPath, ['--expose-gc', entry], { stdio: 'inherit', env: process.env });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      log(`${name} exited (${signal ?? code}); stopping`);
      stop(1);
    }
  });
  return child;
}

let stopping = false;
const children: ChildProcess[] = [];

function stop(exitCode: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(exitCode), 35_000).unref();
  Promise.all(children.map((child) => new Promise((r) => (child.exitCode !== null ? r(null) : child.on('exit', r))))).then(() => process.exit(exitCode));
}

async function main(): Promise<void> {
  const config = loadConfig();
  const outcome = await ensureLocalRedis(config.redisUrl, log);
  if (outcome === 'already-running') log(`using the Redis already running at ${config.redisUrl}`);
  const appsDir = join(__dirname, '..', 'apps');
  children.push(launch('worker', join(appsDir, 'worker', 'src', 'main.js')));
  children.push(launch('api', join(appsDir, 'api', 'src', 'main.js')));
  log(`API on http://${config.host}:${config.port}${config.host === '127.0.0.1' ? ' (this machine only; HOST=0.0.0.0 to listen on the network)' : ''}, one worker (DEVICE=${config.device}, WHISPER_MODEL=${config.whisperModel})`);
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
}

main().catch((error: Error) => {
  console.error(`[start] ${error.message}`);
  process.exit(1);
});
