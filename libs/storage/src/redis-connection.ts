import Redis, { RedisOptions } from 'ioredis';

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
    db: parsed.pathname && parsed.pathname !== '/' ? Number(parsed.pathname.slice(1)) : 0,
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
