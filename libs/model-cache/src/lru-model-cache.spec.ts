import fc from 'fast-check';
import { CachedModel, LruModelCache, ModelLease } from './lru-model-cache';

/** A fake native model: records when it is disposed and whether anyone still held it then. */
class FakeModel implements CachedModel {
  disposed = 0;
  /** leases the test holds on it right now */
  held = 0;
  disposedWhileHeld = false;
  constructor(readonly name: string) {}
  async dispose(): Promise<void> {
    if (this.held > 0) this.disposedWhileHeld = true;
    this.disposed += 1;
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('LruModelCache', () => {
  it('loads a key once even when asked concurrently, and leases it to both', async () => {
    const cache = new LruModelCache<FakeModel>(2);
    let loads = 0;
    const load = async () => {
      loads += 1;
      await new Promise((r) => setTimeout(r, 10));
      return new FakeModel('a');
    };
    const [a, b] = await Promise.all([cache.acquire('a', load), cache.acquire('a', load)]);
    expect(a.model).toBe(b.model);
    expect(loads).toBe(1);
    expect(cache.size).toBe(1);
    expect(cache.snapshot()).toEqual([{ key: 'a', model: a.model, leases: 2, draining: false }]);
    a.release();
    a.release(); // idempotent
    expect(cache.snapshot()[0].leases).toBe(1);
    b.release();
    expect(cache.snapshot()[0].leases).toBe(0);
  });

  it('evicts and disposes the least recently used model nobody holds', async () => {
    const evicted: string[] = [];
    const cache = new LruModelCache<FakeModel>(2, { onRemove: (key) => evicted.push(key) });
    const a = await cache.warm('a', async () => new FakeModel('a'));
    const b = await cache.warm('b', async () => new FakeModel('b'));
    await cache.warm('a', async () => new FakeModel('a2')); // touch a: b is now oldest
    await cache.warm('c', async () => new FakeModel('c'));
    await flush();
    expect(evicted).toEqual(['b']);
    expect(b.disposed).toBe(1);
    expect(a.disposed).toBe(0);
    expect(cache.keys()).toEqual(['a', 'c']);
    expect(cache.snapshot().map((e) => e.model.name)).toEqual(['a', 'c']);
  });

  it('a leased model that is evicted is freed only when its lease is released', async () => {
    const cache = new LruModelCache<FakeModel>(1);
    const a = await cache.acquire('a', async () => new FakeModel('a'));
    await cache.warm('b', async () => new FakeModel('b')); // evicts a while a job holds it
    await flush();
    expect(cache.keys()).toEqual(['b']);
    expect(a.model.disposed).toBe(0);
    expect(cache.snapshot().map((e) => [e.model.name, e.draining, e.leases])).toEqual([
      ['b', false, 0],
      ['a', true, 1],
    ]);
    a.release();
    await cache.drained();
    expect(a.model.disposed).toBe(1);
    expect(cache.snapshot().map((e) => e.model.name)).toEqual(['b']);
  });

  it('a model marked for disposal is not handed out again: the next acquire loads a fresh one while the old drains', async () => {
    const cache = new LruModelCache<FakeModel>(1);
    let loads = 0;
    const loadA = async () => new FakeModel(`a${++loads}`);
    const old = await cache.acquire('a', loadA);
    await cache.warm('b', async () => new FakeModel('b')); // a evicted, still leased
    const fresh = await cache.acquire('a', loadA); // reload while the old one drains (evicts b)
    expect(fresh.model).not.toBe(old.model);
    expect(fresh.model.name).toBe('a2');
    await flush();
    expect(old.model.disposed).toBe(0);
    // both copies are in memory for now: the cached one and the draining one
    expect(cache.snapshot().map((e) => [e.model.name, e.draining])).toEqual([
      ['a2', false],
      ['a1', true],
    ]);
    old.release();
    await cache.drained();
    expect(old.model.disposed).toBe(1);
    expect(fresh.model.disposed).toBe(0);
    fresh.release();
    expect(fresh.model.disposed).toBe(0); // still cached
  });

  it('clear() (/gc) frees unleased models now and leased ones when released, counting them as pending', async () => {
    const disposed: string[] = [];
    const cache = new LruModelCache<FakeModel>(3, { onDisposed: (key) => disposed.push(key) });
    const a = await cache.acquire('a', async () => new FakeModel('a'));
    const b = await cache.warm('b', async () => new FakeModel('b'));
    const c = await cache.warm('c', async () => new FakeModel('c'));
    expect(await cache.clear()).toEqual({ unloaded: 3, pending: 1 });
    expect(cache.size).toBe(0);
    expect(b.disposed).toBe(1);
    expect(c.disposed).toBe(1);
    expect(a.model.disposed).toBe(0);
    expect(cache.snapshot()).toEqual([{ key: 'a', model: a.model, leases: 1, draining: true }]);
    // a new job after /gc gets a fresh model, not the one being drained
    const again = await cache.acquire('a', async () => new FakeModel('a-again'));
    expect(again.model.name).toBe('a-again');
    a.release();
    await cache.drained();
    expect(a.model.disposed).toBe(1);
    expect(disposed.sort()).toEqual(['a', 'b', 'c']);
    again.release();
    expect(await cache.clear()).toEqual({ unloaded: 1, pending: 0 });
    expect(await cache.clear()).toEqual({ unloaded: 0, pending: 0 });
  });

  it('/gc during a load: the loader still gets its model, freed when it releases it', async () => {
    const cache = new LruModelCache<FakeModel>(2);
    const gate = deferred<FakeModel>();
    const pending = cache.acquire('a', () => gate.promise);
    await flush();
    expect(await cache.clear()).toEqual({ unloaded: 1, pending: 1 });
    gate.resolve(new FakeModel('a'));
    const lease = await pending;
    expect(lease.model.disposed).toBe(0);
    expect(cache.has('a')).toBe(false);
    lease.release();
    await cache.drained();
    expect(lease.model.disposed).toBe(1);
  });

  it('eviction of a model still loading waits for it and for its user', async () => {
    const cache = new LruModelCache<FakeModel>(1);
    const gate = deferred<FakeModel>();
    const slow = cache.acquire('slow', () => gate.promise);
    const quick = await cache.acquire('quick', async () => new FakeModel('quick')); // evicts the loading entry
    expect(cache.keys()).toEqual(['quick']);
    gate.resolve(new FakeModel('slow'));
    const lease = await slow;
    expect(lease.model.disposed).toBe(0);
    lease.release();
    await cache.drained();
    expect(lease.model.disposed).toBe(1);
    expect(quick.model.disposed).toBe(0);
  });

  it('does not cache a failed load; every waiter gets the error', async () => {
    const cache = new LruModelCache<FakeModel>(2);
    const gate = deferred<FakeModel>();
    const first = cache.acquire('x', () => gate.promise);
    const second = cache.acquire('x', async () => new FakeModel('never'));
    gate.reject(new Error('boom'));
    await expect(first).rejects.toThrow('boom');
    await expect(second).rejects.toThrow('boom');
    expect(cache.size).toBe(0);
    const x = await cache.acquire('x', async () => new FakeModel('x'));
    expect(x.model.name).toBe('x');
    await expect(cache.acquire('y', () => { throw new Error('sync boom'); })).rejects.toThrow('sync boom');
  });

  it('a dispose that throws is reported, not counted, and the model is gone all the same', async () => {
    const errors: string[] = [];
    const cache = new LruModelCache<CachedModel>(2, { onDisposeError: (key) => errors.push(key) });
    await cache.warm('bad', async () => ({ dispose: async () => { throw new Error('native error'); } }));
    expect(await cache.clear()).toEqual({ unloaded: 0, pending: 0 });
    expect(errors).toEqual(['bad']);
    expect(cache.snapshot()).toEqual([]);
  });

  it('capacity Infinity never evicts; below 1 is refused', async () => {
    const cache = new LruModelCache<FakeModel>(Infinity);
    for (const key of ['a', 'b', 'c', 'd']) await cache.warm(key, async () => new FakeModel(key));
    expect(cache.size).toBe(4);
    expect(() => new LruModelCache<FakeModel>(0)).toThrow();
    expect(() => new LruModelCache<FakeModel>(1.5)).toThrow();
  });

  /**
   * Random interleavings of acquire (with loads that finish or fail later, in any order), release,
   * eviction (through acquires past the capacity) and clear (/gc): a model is never disposed while
   * leased, never twice, never handed out once disposed, and every model is disposed in the end.
   */
  it('property: never disposed while leased, never twice, always in the end', async () => {
    type Op =
      | { kind: 'acquire'; key: string }
      | { kind: 'finishLoad'; index: number; fail: boolean }
      | { kind: 'release'; index: number }
      | { kind: 'clear' }
      | { kind: 'tick' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('acquire' as const), key: fc.constantFrom('a', 'b', 'c', 'd') }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('finishLoad' as const), index: fc.nat(), fail: fc.boolean() }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('release' as const), index: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.array(op, { maxLength: 80 }), async (capacity, ops) => {
        const cache = new LruModelCache<FakeModel>(capacity);
        const created: FakeModel[] = [];
        const loads: { resolve: (m: FakeModel) => void; reject: (e: unknown) => void; key: string }[] = [];
        const held: ModelLease<FakeModel>[] = [];
        const violations: string[] = [];
        const settle = (acquired: Promise<ModelLease<FakeModel>>) =>
          acquired.then(
            (lease) => {
              if (lease.model.disposed > 0) violations.push(`${lease.model.name} handed out after dispose`);
              lease.model.held += 1;
              held.push(lease);
            },
            () => undefined,
          );
        const inFlight: Promise<void>[] = [];
        const finish = (index: number, fail: boolean) => {
          const [load] = loads.splice(index % loads.length, 1);
          if (fail) return load.reject(new Error('load failed'));
          const model = new FakeModel(`${load.key}#${created.length}`);
          created.push(model);
          load.resolve(model);
        };
        for (const step of ops) {
          if (step.kind === 'acquire') {
            inFlight.push(settle(cache.acquire(step.key, () => new Promise<FakeModel>((resolve, reject) => loads.push({ resolve, reject, key: step.key })))));
          } else if (step.kind === 'finishLoad' && loads.length > 0) {
            finish(step.index, step.fail);
          } else if (step.kind === 'release' && held.length > 0) {
            const [lease] = held.splice(step.index % held.length, 1);
            lease.model.held -= 1;
            lease.release();
          } else if (step.kind === 'clear') {
            inFlight.push(cache.clear().then(() => undefined));
          }
          await flush();
        }
        // the end of every job: loads finish, leases are released, /gc
        while (loads.length > 0) {
          finish(0, false);
          await flush();
        }
        await Promise.all(inFlight);
        for (const lease of held.splice(0)) {
          lease.model.held -= 1;
          lease.release();
        }
        await cache.clear();
        await cache.drained();
        for (const model of created) {
          if (model.disposedWhileHeld) violations.push(`${model.name} disposed while leased`);
          if (model.disposed !== 1) violations.push(`${model.name} disposed ${model.disposed} times`);
        }
        expect(violations).toEqual([]);
        expect(cache.snapshot()).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});
