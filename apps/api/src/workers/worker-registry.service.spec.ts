import Redis from 'ioredis';
import { RedisKeys, WorkerHeartbeat } from '@app/contracts';
import { WorkerRegistry } from './worker-registry.service';

// a real Redis: TEST_REDIS_URL's database (the hash is this spec's alone while it runs)
const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/10';

const beat = (worker_id: string, ageMs: number): Partial<WorkerHeartbeat> => ({ worker_id, ts: Date.now() - ageMs, busy: false });

describe('WorkerRegistry (one hash of heartbeats)', () => {
  let redis: Redis;
  beforeAll(() => (redis = new Redis(url)));
  beforeEach(() => redis.del(RedisKeys.workerHeartbeats));
  afterAll(async () => {
    await redis.del(RedisKeys.workerHeartbeats);
    await redis.quit();
  });

  const write = (entries: Record<string, unknown>) =>
    redis.hset(RedisKeys.workerHeartbeats, Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])));

  it('lists fresh heartbeats sorted by worker id and removes stale and unreadable entries from the hash', async () => {
    await write({ b: beat('b', 1_000), a: beat('a', 0), dead: beat('dead', 60_000), garbage: 'not json', nameless: { ts: Date.now() } });
    const workers = await new WorkerRegistry(redis).liveWorkers();
    expect(workers.map((w) => w.worker_id)).toEqual(['a', 'b']);
    expect((await redis.hkeys(RedisKeys.workerHeartbeats)).sort()).toEqual(['a', 'b']);
  });

  it('an upload route may reuse a read for maxAgeMs; a plain read always goes to Redis', async () => {
    const registry = new WorkerRegistry(redis);
    await write({ a: beat('a', 0) });
    expect(await registry.liveWorkers(60_000)).toHaveLength(1);
    await write({ b: beat('b', 0) });
    expect(await registry.liveWorkers(60_000)).toHaveLength(1);
    expect(await registry.liveWorkers()).toHaveLength(2);
    expect(await registry.liveWorkers(60_000)).toHaveLength(2);
  });

  it('a read that found no worker is not reused: a worker that just started is seen at once', async () => {
    const registry = new WorkerRegistry(redis);
    expect(await registry.liveWorkers(60_000)).toEqual([]);
    await write({ a: beat('a', 0) });
    expect((await registry.liveWorkers(60_000)).map((w) => w.worker_id)).toEqual(['a']);
  });
});

describe('freshEntries removal', () => {
  it('removes a stale field only while it still holds the value read', async () => {
    const { freshEntries } = await import('./fresh-entries');
    const redis = new Redis(url);
    const key = 'tx:test:fresh-entries';
    try {
      await redis.del(key);
      await redis.hset(key, 'old', JSON.stringify({ worker_id: 'old', ts: 1 }));
      // a reader whose HGETALL saw the old value, but the worker beat again before the removal
      const racing = Object.assign(Object.create(redis) as Redis, {
        hgetall: async (k: string) => {
          const seen = await redis.hgetall(k);
          await redis.hset(k, 'old', JSON.stringify({ worker_id: 'old', ts: Date.now() }));
          return seen;
        },
      });
      const isEntry = (v: unknown): v is { worker_id: string; ts: number } => typeof v === 'object' && v !== null;
      expect(await freshEntries(racing, key, 15_000, isEntry)).toEqual([]);
      expect(await redis.hkeys(key)).toEqual(['old']);
      // nobody wrote meanwhile: now it goes
      await redis.hset(key, 'old', JSON.stringify({ worker_id: 'old', ts: 1 }));
      expect(await freshEntries(redis, key, 15_000, isEntry)).toEqual([]);
      expect(await redis.hkeys(key)).toEqual([]);
    } finally {
      await redis.del(key);
      await redis.quit();
    }
  });
});
