import { Cluster } from 'ioredis';
import { bullQueueOptions } from './transcribe-queue.module';
import { clusterFor, clusterOptionsFromUrl, createRedisClient, isClusterClient, redisDatabase } from './redis-connection';
import { ensureLocalRedis } from './local-redis';

const CLUSTER_ENV = { REDIS_URL: 'redis://user:p%40ss@queue-redis:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7001,127.0.0.1:7002' };

describe('Redis connections to a Cluster', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("REDIS_CLUSTER_NODES applies to REDIS_URL's server only (a separate AUDIO_REDIS_URL stays plain)", () => {
    expect(clusterFor('redis://user:p%40ss@QUEUE-REDIS/0', CLUSTER_ENV)?.nodes).toHaveLength(2);
    expect(clusterFor('redis://audio-redis:6379/0', CLUSTER_ENV)).toBeUndefined();
    expect(clusterFor('redis://queue-redis:6379', { REDIS_URL: CLUSTER_ENV.REDIS_URL })).toBeUndefined();
  });

  it("node options: the URL's user, password and TLS, BullMQ's maxRetriesPerRequest null, overrides last", () => {
    const options = clusterOptionsFromUrl('rediss://user:p%40ss@queue-redis:6379', { maxRetriesPerRequest: 1, connectionName: 'api' });
    expect(options.redisOptions).toMatchObject({ username: 'user', password: 'p@ss', tls: {}, maxRetriesPerRequest: 1, connectionName: 'api' });
    expect(options.redisOptions?.db).toBeUndefined();
    expect(clusterOptionsFromUrl('redis://queue-redis:6379').redisOptions).toMatchObject({ maxRetriesPerRequest: null, tls: undefined });
    // the seeds down: keep retrying (a null strategy would end the client for good)
    expect(options.clusterRetryStrategy?.(50, undefined)).toBe(2_000);
  });

  it('createRedisClient and bullQueueOptions give Cluster clients in cluster mode, one shared for BullMQ', () => {
    process.env = { ...saved, ...CLUSTER_ENV };
    const client = createRedisClient(CLUSTER_ENV.REDIS_URL, 'unit', { lazyConnect: true });
    const plain = createRedisClient('redis://audio-redis:6379', 'unit-audio', { lazyConnect: true });
    const first = bullQueueOptions({ redisUrl: CLUSTER_ENV.REDIS_URL, queuePrefix: '{bull}' });
    const second = bullQueueOptions({ redisUrl: CLUSTER_ENV.REDIS_URL, queuePrefix: '{bull}' });
    try {
      expect(isClusterClient(client)).toBe(true);
      expect(client).toBeInstanceOf(Cluster);
      expect(isClusterClient(plain)).toBe(false);
      expect(redisDatabase(client)).toBe(0);
      expect(isClusterClient(first.connection)).toBe(true);
      expect(second.connection).toBe(first.connection);
      expect(first.prefix).toBe('{bull}');
    } finally {
      client.disconnect();
      plain.disconnect();
      (first.connection as Cluster).disconnect();
    }
  });

  it('ensureLocalRedis leaves a cluster alone (a lone redis-server would be no cluster)', async () => {
    process.env = { ...saved, REDIS_URL: 'redis://127.0.0.1:6399', REDIS_CLUSTER_NODES: '127.0.0.1:7001' };
    await expect(ensureLocalRedis('redis://127.0.0.1:6399', () => undefined)).resolves.toBe('cluster');
  });
});
