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

export function createRedis(url: string, name: string): Redis {
  return new Redis({ ...redisOptionsFromUrl(url), connectionName: name });
}
