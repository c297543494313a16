import { describeRedisTarget, redisOptionsFromUrl, sentinelFor } from './redis-connection';
import { ensureLocalRedis } from './local-redis';

const SENTINEL_ENV = { REDIS_URL: 'redis://queue-redis:6379/2', REDIS_SENTINELS: '127.0.0.1:26379,127.0.0.1:26380', REDIS_SENTINEL_NAME: 'txmaster' };

describe('Redis connections through Sentinel', () => {
  it('without REDIS_SENTINELS: direct to the URL host', () => {
    expect(sentinelFor('redis://queue-redis:6379/2', { REDIS_URL: 'redis://queue-redis:6379/2' })).toBeUndefined();
    const options = redisOptionsFromUrl('redis://queue-redis:6380/2', undefined);
    expect(options).toMatchObject({ host: 'queue-redis', port: 6380, db: 2, maxRetriesPerRequest: null });
    expect(options.sentinels).toBeUndefined();
  });

  it("REDIS_SENTINELS applies to REDIS_URL's server (any database), not to another server", () => {
    expect(sentinelFor('redis://queue-redis:6379/5', SENTINEL_ENV)?.name).toBe('txmaster');
    expect(sentinelFor('redis://QUEUE-REDIS/0', SENTINEL_ENV)?.name).toBe('txmaster');
    // a separate AUDIO_REDIS_URL (another host or port) is reached directly
    expect(sentinelFor('redis://audio-redis:6379/0', SENTINEL_ENV)).toBeUndefined();
    expect(sentinelFor('redis://queue-redis:6380/0', SENTINEL_ENV)).toBeUndefined();
  });

  it("sentinel options: the sentinels and group instead of host/port, the URL's db and password kept", () => {
    const sentinel = sentinelFor('redis://queue-redis:6379/2', { ...SENTINEL_ENV, REDIS_SENTINEL_PASSWORD: 'sp' })!;
    const options = redisOptionsFromUrl('redis://:data%20pw@queue-redis:6379/2', sentinel);
    expect(options).toMatchObject({
      sentinels: [{ host: '127.0.0.1', port: 26379 }, { host: '127.0.0.1', port: 26380 }],
      name: 'txmaster',
      role: 'master',
      sentinelPassword: 'sp',
      password: 'data pw',
      db: 2,
      maxRetriesPerRequest: null,
    });
    expect(options.host).toBeUndefined();
    // see sentinelOptions: its disconnect during a reconnect ends the client for good
    expect(options.failoverDetector).toBeFalsy();
    // keeps asking the sentinels (null would end the client for good), at most every 2 s
    expect(options.sentinelRetryStrategy!(1)).toBe(100);
    expect(options.sentinelRetryStrategy!(1_000)).toBe(2_000);
    // a write to a node demoted meanwhile is resent after a reconnect; other errors are not
    expect(options.reconnectOnError!(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(options.reconnectOnError!(new Error('ERR wrong number of arguments'))).toBe(false);
    expect(describeRedisTarget(options)).toBe('the primary of "txmaster" (sentinels 127.0.0.1:26379,127.0.0.1:26380)');
  });

  it('ensureLocalRedis starts nothing for a URL reached through the sentinels', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { REDIS_URL: 'redis://127.0.0.1:1/0', REDIS_SENTINELS: '127.0.0.1:2' });
    try {
      await expect(ensureLocalRedis('redis://127.0.0.1:1/0', () => undefined)).resolves.toBe('sentinel');
    } finally {
      process.env = saved;
    }
  });
});
