import { CachedModel, LruModelCache } from './lru-model-cache';

class FakeModel implements CachedModel {
  disposed = 0;
  constructor(readonly name: string) {}
  async dispose(): Promise<void> {
    this.disposed += 1;
  }
}

describe('LruModelCache', () => {
  it('loads a key once even when asked concurrently', async () => {
    const cache = new LruModelCache<FakeModel>(2);
    let loads = 0;
    const load = async () => {
      loads += 1;
      await new Promise((r) => setTimeout(r, 10));
      return new FakeModel('a');
    };
    const [a, b] = await Promise.all([cache.getOrLoad('a', load), cache.getOrLoad('a', load)]);
    expect(a).toBe(b);
    expect(loads).toBe(1);
    expect(cache.size).toBe(1);
  });

  it('evicts and disposes the least recently used model', async () => {
    const evicted: string[] = [];
    const cache = new LruModelCache<FakeModel>(2, (key) => evicted.push(key));
    const a = await cache.getOrLoad('a', async () => new FakeModel('a'));
    const b = await cache.getOrLoad('b', async () => new FakeModel('b'));
    await cache.getOrLoad('a', async () => new FakeModel('a2')); // touch a: b is now oldest
    await cache.getOrLoad('c', async () => new FakeModel('c'));
    expect(evicted).toEqual(['b']);
    expect(b.disposed).toBe(1);
    expect(a.disposed).toBe(0);
    expect(cache.keys()).toEqual(['a', 'c']);
    expect((await cache.loaded()).map((m) => m.name)).toEqual(['a', 'c']);
    expect(cache.keys()).toEqual(['a', 'c']);
  });

  it('does not cache a failed load', async () => {
    const cache = new LruModelCache<FakeModel>(2);
    await expect(cache.getOrLoad('x', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(cache.size).toBe(0);
    const x = await cache.getOrLoad('x', async () => new FakeModel('x'));
    expect(x.name).toBe('x');
  });

  it('clear() disposes every model and counts them', async () => {
    const cache = new LruModelCache<FakeModel>(3);
    const models = await Promise.all(['a', 'b', 'c'].map((k) => cache.getOrLoad(k, async () => new FakeModel(k))));
    expect(await cache.clear()).toBe(3);
    expect(models.every((m) => m.disposed === 1)).toBe(true);
    expect(cache.size).toBe(0);
    expect(await cache.clear()).toBe(0);
  });

  it('rejects a capacity below 1', () => {
    expect(() => new LruModelCache<FakeModel>(0)).toThrow();
  });
});
