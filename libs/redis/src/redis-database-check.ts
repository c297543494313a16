import Redis from 'ioredis';
import { ConfigError } from '@app/config';
import { describeRedisTarget, redisOptionsFromUrl } from './redis-connection';

/**
 * How the boot check ended: `default` (database 0 needs no check), `selected` (the server has the
 * database), `unverified` (Redis did not answer: the API must still start and report 503s).
 */
/** Redis's answers to a SELECT it will never accept: an index past "databases", or cluster mode. */
const DATABASE_REFUSED = /DB index|SELECT is not allowed/i;

export type RedisDatabaseCheck = 'default' | 'selected' | 'unverified';

/**
 * Fails with a ConfigError naming REDIS_URL when the server has no database with the URL's index
 * (or refuses SELECT, as a cluster does). ioredis alone only emits an 'error' event when its SELECT
 * fails and carries on in database 0, where another deployment's queue may live.
 */
export async function assertRedisDatabase(url: string, timeoutMs = 3_000): Promise<RedisDatabaseCheck> {
  const options = redisOptionsFromUrl(url);
  const db = options.db ?? 0;
  if (db === 0) return 'default';
  // a probe on database 0 that selects explicitly, so the failure comes back as a reply, once
  const probe = new Redis({
    ...options,
    db: 0,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    // with REDIS_SENTINELS: one round of asking the sentinels, then 'unverified' like a direct probe
    ...(options.sentinels ? { sentinelRetryStrategy: () => null } : {}),
    connectionName: 'boot-check',
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
  } catch {
    // retryStrategy null: the client has ended already (disconnect() here would linger for 2 s)
    return 'unverified';
  }
  try {
    await probe.select(db);
    return 'selected';
  } catch (error) {
    const reason = (error as Error).message;
    // other replies (NOAUTH, LOADING) are not about the database index; the services report those
    if ((error as Error).name !== 'ReplyError' || !DATABASE_REFUSED.test(reason)) return 'unverified';
    throw new ConfigError(
      'REDIS_URL',
      `the Redis server at ${describeRedisTarget(options)} refuses database ${db} (${reason}); ` +
        'use one it has (its "databases" setting, 16 by default: 0..15)',
    );
  } finally {
    probe.disconnect();
  }
}
