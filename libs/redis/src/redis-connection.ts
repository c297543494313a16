import Redis, { RedisOptions } from 'ioredis';
import { ConfigError, redisHaVars, SentinelSettings } from '@app/config';

/**
 * The database index in a redis:// URL's path ("/3" → 3, none → 0). Anything else is refused: Number()
 * would turn "/abc" into NaN and ioredis would quietly use database 0, another deployment's queue.
 */
export function redisDatabaseFromUrl(url: URL): number {
  const path = url.pathname;
  if (path === '' || path === '/') return 0;
  if (!/^\/\d{1,9}$/.test(path)) {
    throw new ConfigError('REDIS_URL', `the path must be a database number such as /0 or /3, got "${path}"`);
  }
  return Number(path.slice(1));
}

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** host:port of a redis:// URL, the way two URLs are compared to tell whether they name one server. */
function serverOf(url: URL): string {
  return `${url.hostname.toLowerCase()}:${url.port || '6379'}`;
}

/**
 * The Sentinel settings that apply to `url`: REDIS_SENTINELS describes REDIS_URL's server, so it
 * applies to URLs on that host:port (any database) and not to another server such as a separate
 * AUDIO_REDIS_URL, which is then reached directly.
 */
export function sentinelFor(url: string, env: Record<string, string | undefined> = process.env): SentinelSettings | undefined {
  const sentinel = redisHaVars(env).sentinel;
  if (!sentinel) return undefined;
  const queueServer = serverOf(new URL(env.REDIS_URL?.trim() || DEFAULT_REDIS_URL));
  return serverOf(new URL(url)) === queueServer ? sentinel : undefined;
}

/**
 * Through the sentinels to the current primary: ioredis asks them for the master's address at each
 * (re)connect and checks the node's role (a demoted primary is left). No failoverDetector: its
 * +switch-master disconnect, arriving while a client is already reconnecting, makes ioredis 5.11
 * end that client for good ("Connection is closed." on every later command; seen in the e2e). A
 * dead primary closes the sockets anyway, and commandTimeout bounds the fail-fast connection.
 */
function sentinelOptions(sentinel: SentinelSettings): RedisOptions {
  return {
    sentinels: sentinel.sentinels,
    name: sentinel.name,
    role: 'master',
    sentinelPassword: sentinel.password,
    // every sentinel unreachable: keep asking, at most every 2 s (null would end the client for good)
    sentinelRetryStrategy: (attempt: number) => Math.min(100 * attempt, 2_000),
    // a write that reached a node demoted meanwhile: reconnect (to the new primary) and resend it
    reconnectOnError: (error: Error) => (/^READONLY/.test(error.message) ? 2 : false),
  };
}

/**
 * ioredis options for BullMQ: blocking connections need maxRetriesPerRequest null; a short
 * connect timeout so /health answers 503 promptly when Redis is down. With REDIS_SENTINELS the
 * URL's host and port give way to the sentinels; its database, user and password still apply.
 * The offline queue stays on (BullMQ needs it): commands wait for the reconnect across a failover.
 */
export function redisOptionsFromUrl(url: string, sentinel: SentinelSettings | undefined = sentinelFor(url)): RedisOptions {
  const parsed = new URL(url);
  const server: RedisOptions = sentinel ? sentinelOptions(sentinel) : { host: parsed.hostname, port: Number(parsed.port || 6379) };
  return {
    ...server,
    username: parsed.username || undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: redisDatabaseFromUrl(parsed),
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    connectTimeout: 5_000,
    enableReadyCheck: true,
  };
}

/** Where a set of options points, for messages: the sentinel group or host:port. */
export function describeRedisTarget(options: RedisOptions): string {
  if (options.sentinels?.length) {
    return `the primary of "${options.name}" (sentinels ${options.sentinels.map((s) => `${s.host}:${s.port}`).join(',')})`;
  }
  return `${options.host}:${options.port}`;
}

/** The database index a connection uses (0 unless the URL names one): pub/sub channels are scoped by it. */
export function redisDatabase(redis: Redis): number {
  return redis.options.db ?? 0;
}

export function createRedis(url: string, name: string): Redis {
  return new Redis({ ...redisOptionsFromUrl(url), connectionName: name });
}
