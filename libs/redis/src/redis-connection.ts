import Redis, { RedisOptions } from 'ioredis';
import { ConfigError } from '@app/config';

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

/**
 * ioredis options for BullMQ: blocking connections need maxRetriesPerRequest null; a short
 * connect timeout so /health answers 503 promptly when Redis is down.
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    username: parsed.username || undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: redisDatabaseFromUrl(parsed),
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    connectTimeout: 5_000,
    enableReadyCheck: true,
  };
}

/** The database index a connection uses (0 unless the URL names one): pub/sub channels are scoped by it. */
export function redisDatabase(redis: Redis): number {
  return redis.options.db ?? 0;
}

export function createRedis(url: string, name: string): Redis {
  return new Redis({ ...redisOptionsFromUrl(url), connectionName: name });
}
