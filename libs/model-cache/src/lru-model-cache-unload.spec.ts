import { CachedModel, LruModelCache } from './lru-model-cache';

/** A fake native model that counts its disposals. */
class FakeModel implements CachedModel {
  disposed = 0;
  constructor(readonly name: string) {}
  async dispose(): Promise<void> {
    this.disposed += 1;
  }
}

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

const load = (name: string) => async () => new FakeModel(name);

describe('LruModelCache.remove (DELETE /models/:name)', () => {
  it('frees a model nobody holds at once; a missing key unloads nothing', async () => {
    const removed: string[] = [];
    const cache = new LruModelCache<FakeModel>(3, { onRemove: (key, reason) => removed.push(`${key}:${reason}`) });
    const a = await cache.warm('a', load('a'));
    await cache.warm('b', load('b'));
    expect(await cache.remove('a')).toEqual({ unloaded: 1, pending: 0 });
    expect(a.disposed).toBe(1);
    expect(cache.keys()).toEqual(['b']);
    expect(await cache.remove('a')).toEqual({ unloaded: 0, pending: 0 });
    expect(removed).toEqual(['a:removed']);
  });

  it('a held model is marked and freed when its lease is released; the next acquire loads a fresh copy', async () => {
    const cache = new LruModelCache<FakeModel>(3);
    const lease = await cache.acquire('a', load('a'));
    expect(await cache.remove('a')).toEqual({ unloaded: 1, pending: 1 });
    expect(lease.model.disposed).toBe(0);
    expect(cache.snapshot()).toEqual([{ key: 'a', model: lease.model, leases: 1, draining: true }]);
    const fresh = await cache.acquire('a', load('a'));
    expect(fresh.model).not.toBe(lease.model);
    lease.release();
    await cache.drained();
    expect(lease.model.disposed).toBe(1);
    expect(fresh.model.disposed).toBe(0);
    fresh.release();
  });
});

describe('LruModelCache.evictIdle (MODEL_IDLE_UNLOAD_S)', () => {
  it('frees models nobody took or released for the idle time, and only those', async () => {
    const clock = manualClock();
    const cache = new LruModelCache<FakeModel>(3, {}, clock.now);
    const a = await cache.warm('a', load('a'));
    clock.advance(1_500);
    const b = await cache.warm('b', load('b'));
    expect(cache.nextIdleInMs(2_000)).toBe(500);
    clock.advance(499);
    expect(await cache.evictIdle(2_000)).toEqual([]);
    clock.advance(1);
    expect(await cache.evictIdle(2_000)).toEqual(['a']);
    expect([a.disposed, b.disposed]).toEqual([1, 0]);
    expect(cache.keys()).toEqual(['b']);
    expect(cache.nextIdleInMs(2_000)).toBe(1_500);
  });

  it('never frees a model under lease, however long the job; idle time counts from the release', async () => {
    const clock = manualClock();
    const cache = new LruModelCache<FakeModel>(3, {}, clock.now);
    const lease = await cache.acquire('a', load('a'));
    clock.advance(60_000);
    expect(cache.nextIdleInMs(2_000)).toBeUndefined();
    expect(await cache.evictIdle(2_000)).toEqual([]);
    expect(lease.model.disposed).toBe(0);
    lease.release();
    clock.advance(1_999);
    expect(await cache.evictIdle(2_000)).toEqual([]);
    clock.advance(1);
    expect(await cache.evictIdle(2_000)).toEqual(['a']);
    expect(lease.model.disposed).toBe(1);
  });

  it('a model used again is not idle: each acquire restarts its clock', async () => {
    const clock = manualClock();
    const cache = new LruModelCache<FakeModel>(3, {}, clock.now);
    await cache.warm('a', load('a'));
    clock.advance(1_900);
    await cache.warm('a', load('a'));
    clock.advance(1_900);
    expect(await cache.evictIdle(2_000)).toEqual([]);
    clock.advance(100);
    expect(await cache.evictIdle(2_000)).toEqual(['a']);
  });

  it('leaves a model that is still loading alone', async () => {
    const clock = manualClock();
    const cache = new LruModelCache<FakeModel>(3, {}, clock.now);
    let finish!: (model: FakeModel) => void;
    const loading = cache.acquire('a', () => new Promise<FakeModel>((resolve) => (finish = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(10_000);
    expect(await cache.evictIdle(2_000)).toEqual([]);
    finish(new FakeModel('a'));
    (await loading).release();
    expect(cache.keys()).toEqual(['a']);
  });
});
