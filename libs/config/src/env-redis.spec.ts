import { ConfigError, loadConfig } from './env';
import { redisHaVars } from './env-redis';

describe('Redis high-availability variables', () => {
  it('defaults: no sentinels, no replica acknowledgement, prefix bull', () => {
    expect(redisHaVars({})).toEqual({ sentinel: undefined, requireReplicaAck: 0, replicaAckTimeoutMs: 1_000, queuePrefix: 'bull' });
  });

  it('REDIS_SENTINELS: host:port list, 26379 when the port is left out, IPv6 in brackets', () => {
    const ha = redisHaVars({ REDIS_SENTINELS: ' 10.0.0.1:26380, sentinel-b ,[::1]:5000', REDIS_SENTINEL_NAME: 'txmaster', REDIS_SENTINEL_PASSWORD: 's3cret' });
    expect(ha.sentinel).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26380 },
        { host: 'sentinel-b', port: 26379 },
        { host: '::1', port: 5000 },
      ],
      name: 'txmaster',
      password: 's3cret',
    });
    expect(redisHaVars({ REDIS_SENTINELS: 'a:1' }).sentinel?.name).toBe('mymaster');
  });

  it.each(['redis://a:26379', 'a:0', 'a:70000', 'a:b', 'a b:1'])('REDIS_SENTINELS=%s is refused, naming the variable', (value) => {
    expect(() => redisHaVars({ REDIS_SENTINELS: value })).toThrow(ConfigError);
    expect(() => redisHaVars({ REDIS_SENTINELS: value })).toThrow(/REDIS_SENTINELS/);
  });

  it('REDIS_REQUIRE_REPLICA_ACK and its timeout: integers in range', () => {
    expect(redisHaVars({ REDIS_REQUIRE_REPLICA_ACK: '1', REDIS_REPLICA_ACK_TIMEOUT_MS: '250' })).toMatchObject({ requireReplicaAck: 1, replicaAckTimeoutMs: 250 });
    expect(() => redisHaVars({ REDIS_REQUIRE_REPLICA_ACK: 'yes' })).toThrow(/REDIS_REQUIRE_REPLICA_ACK/);
    expect(() => redisHaVars({ REDIS_REPLICA_ACK_TIMEOUT_MS: '0' })).toThrow(/REDIS_REPLICA_ACK_TIMEOUT_MS/);
  });

  it('QUEUE_PREFIX: one non-empty hash tag at most (Redis Cluster slots)', () => {
    expect(redisHaVars({ QUEUE_PREFIX: '{bull}' }).queuePrefix).toBe('{bull}');
    expect(redisHaVars({ QUEUE_PREFIX: 'tx:{q}' }).queuePrefix).toBe('tx:{q}');
    for (const bad of ['{}', '{a}{b}', '}a{', '{a', 'a b', 'x'.repeat(65)]) {
      expect(() => redisHaVars({ QUEUE_PREFIX: bad })).toThrow(/QUEUE_PREFIX/);
    }
  });

  it('loadConfig carries them and refuses bad ones at boot', () => {
    expect(loadConfig({ REDIS_SENTINELS: 's1:26379', REDIS_REQUIRE_REPLICA_ACK: '1', QUEUE_PREFIX: '{bull}' })).toMatchObject({
      sentinel: { sentinels: [{ host: 's1', port: 26379 }], name: 'mymaster' },
      requireReplicaAck: 1,
      queuePrefix: '{bull}',
    });
    expect(() => loadConfig({ REDIS_SENTINELS: 's1:x' })).toThrow(/REDIS_SENTINELS/);
  });

  describe('REDIS_CLUSTER_NODES', () => {
    const URL_ENV = { REDIS_URL: 'redis://:pw@queue-redis:6379' };

    it('host:port seeds, 6379 when the port is left out, IPv6 in brackets', () => {
      expect(redisHaVars({ ...URL_ENV, REDIS_CLUSTER_NODES: ' 10.0.0.1:7001, node-b ,[::1]:7003' }).cluster).toEqual({
        nodes: [
          { host: '10.0.0.1', port: 7001 },
          { host: 'node-b', port: 6379 },
          { host: '::1', port: 7003 },
        ],
      });
      expect(redisHaVars(URL_ENV).cluster).toBeUndefined();
    });

    it.each(['redis://a:7001', 'a:0', 'a:70000', 'a b:1'])('REDIS_CLUSTER_NODES=%s is refused, naming the variable', (value) => {
      expect(() => redisHaVars({ REDIS_CLUSTER_NODES: value })).toThrow(ConfigError);
      expect(() => redisHaVars({ REDIS_CLUSTER_NODES: value })).toThrow(/REDIS_CLUSTER_NODES: expected node addresses/);
    });

    it('QUEUE_PREFIX: {bull} by default in cluster mode; an explicit one without a hash tag is refused', () => {
      expect(redisHaVars({ REDIS_CLUSTER_NODES: 'a:7001' }).queuePrefix).toBe('{bull}');
      expect(redisHaVars({ REDIS_CLUSTER_NODES: 'a:7001', QUEUE_PREFIX: 'tx:{q}' }).queuePrefix).toBe('tx:{q}');
      expect(() => redisHaVars({ REDIS_CLUSTER_NODES: 'a:7001', QUEUE_PREFIX: 'bull' })).toThrow(/QUEUE_PREFIX: .*needs a hash tag such as \{bull\}/);
      // without a cluster the untagged default stays (existing queues keep their keys)
      expect(redisHaVars({ QUEUE_PREFIX: 'bull' }).queuePrefix).toBe('bull');
    });

    it('a database other than 0 in REDIS_URL is refused (a cluster has database 0 only)', () => {
      expect(redisHaVars({ REDIS_URL: 'redis://queue-redis:6379/0', REDIS_CLUSTER_NODES: 'a:7001' }).cluster).toBeDefined();
      expect(() => redisHaVars({ REDIS_URL: 'redis://queue-redis:6379/2', REDIS_CLUSTER_NODES: 'a:7001' })).toThrow(/REDIS_URL: a Redis Cluster .*database 0 only, got "\/2"/);
    });

    it("AUDIO_REDIS_URL: refused with a database on the cluster's server, free on another server", () => {
      const env = { ...URL_ENV, REDIS_CLUSTER_NODES: 'a:7001' };
      expect(() => redisHaVars({ ...env, AUDIO_REDIS_URL: 'redis://QUEUE-REDIS/3' })).toThrow(/AUDIO_REDIS_URL: a Redis Cluster/);
      expect(redisHaVars({ ...env, AUDIO_REDIS_URL: 'redis://audio-redis:6379/3' }).cluster).toBeDefined();
    });

    it('REDIS_SENTINELS and REDIS_CLUSTER_NODES together are refused', () => {
      expect(() => redisHaVars({ REDIS_SENTINELS: 's1', REDIS_CLUSTER_NODES: 'a:7001' })).toThrow(/REDIS_CLUSTER_NODES: cannot be combined with REDIS_SENTINELS/);
    });

    it('loadConfig carries the cluster and refuses bad settings at boot', () => {
      expect(loadConfig({ REDIS_CLUSTER_NODES: 'a:7001,b:7002' })).toMatchObject({ cluster: { nodes: [{ host: 'a', port: 7001 }, { host: 'b', port: 7002 }] }, queuePrefix: '{bull}' });
      expect(() => loadConfig({ REDIS_URL: 'redis://h/1', REDIS_CLUSTER_NODES: 'a:7001' })).toThrow(ConfigError);
    });
  });
});
