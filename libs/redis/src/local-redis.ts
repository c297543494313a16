import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { clusterFor, sentinelFor } from './redis-connection';

/** true when something accepts TCP connections at host:port and answers PING. */
export function redisAnswers(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG') || data.toString().startsWith('-NOAUTH')));
  });
}

export function isLocalHost(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '::1' || host === '[::1]';
}

export type EnsureRedisOutcome = 'already-running' | 'started' | 'remote' | 'sentinel' | 'cluster';

/**
 * For the embedded default: when REDIS_URL points at this machine and nothing answers, start a
 * redis-server ourselves (in-memory: no RDB/AOF files). Remote URLs are left alone, and so is a
 * URL reached through REDIS_SENTINELS (its host is not where the primary is) or REDIS_CLUSTER_NODES
 * (a lone redis-server would be no cluster).
 */
export async function ensureLocalRedis(redisUrl: string, log: (message: string) => void): Promise<EnsureRedisOutcome> {
  if (sentinelFor(redisUrl)) return 'sentinel';
  if (clusterFor(redisUrl)) return 'cluster';
  const url = new URL(redisUrl);
  const host = url.hostname;
  const port = Number(url.port || 6379);
  if (!isLocalHost(host)) return 'remote';
  if (await redisAnswers(host, port)) return 'already-running';
  const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (which.error) {
    throw new Error(
      `nothing answers at ${redisUrl} and redis-server is not installed: install it (apt-get install redis-server) or set REDIS_URL to a running Redis`,
    );
  }
  log(`no Redis at ${redisUrl}: starting a local redis-server on port ${port} (in-memory, no persistence)`);
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore' },
  );
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-server exited with ${code}`))));
  });
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await redisAnswers(host, port)) return 'started';
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`started redis-server on port ${port} but it does not answer`);
}
