/**
 * A small LRU of loaded models whose users hold leases.
 *
 * - `acquire(key, load)` returns a lease on the cached model, loading it first when needed; loads of
 *   the same key share one promise, so two jobs asking for a model at once load it once.
 * - Eviction (a load that pushes the cache past its capacity) and `clear()` (/gc) take a model out
 *   of the cache at once and mark it; it is disposed (whisper_free, InferenceSession.release) when
 *   its last lease is released, right away when nobody holds it. A marked model is never handed to
 *   a new user: the next acquire of its key loads a fresh copy, even while the old one drains.
 * - Every model is disposed at most once, and only when no lease on it is outstanding.
 * - `remove(key)` takes one model out the same way (DELETE /models/:name), and `evictIdle()` those
 *   nobody has held for a while (MODEL_IDLE_UNLOAD_S): never one under lease.
 */
export interface CachedModel {
  /** frees native memory; called once, when the model is out of the cache and nobody holds it */
  dispose(): Promise<void>;
}

/** The right to use a model until `release()`; the model is not disposed while the lease is held. */
export interface ModelLease<V> {
  readonly model: V;
  /** Lets go of the model (idempotent); a model marked for disposal is freed with its last lease. */
  release(): void;
}

/** One model in memory: in the cache, or marked (`draining`) and waiting for its users to finish. */
export interface CacheEntryInfo<V> {
  key: string;
  model: V;
  /** leases outstanding */
  leases: number;
  /** out of the cache (evicted or /gc), freed when the last lease is released */
  draining: boolean;
}

export interface ClearResult {
  /** models taken out of the cache: freed now, or (`pending`) when their last user releases them */
  unloaded: number;
  /** of those, models still leased by a running job */
  pending: number;
}

export type RemovalReason = 'evicted' | 'cleared' | 'removed' | 'idle';

export interface LruModelCacheHooks {
  /** a model left the cache (it is freed now or when released) */
  onRemove?: (key: string, reason: RemovalReason, leases: number) => void;
  /** a model's native memory was freed */
  onDisposed?: (key: string) => void;
  /** dispose() threw; the model is gone from the cache all the same */
  onDisposeError?: (key: string, error: unknown) => void;
}

class Entry<V> {
  value?: V;
  leases = 0;
  /** out of the cache: no new leases, disposed with the last one */
  retired = false;
  /** when a user last took or released it (ms): idle eviction counts from here */
  lastUsed: number;
  disposal?: Promise<boolean>;

  constructor(
    readonly key: string,
    readonly promise: Promise<V>,
    now: number,
  ) {
    this.lastUsed = now;
    promise.then(
      (value) => void (this.value = value),
      () => undefined,
    );
  }
}

class Lease<V> implements ModelLease<V> {
  private released = false;

  constructor(
    readonly model: V,
    private readonly onRelease: () => void,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease();
  }
}

export class LruModelCache<V extends CachedModel> {
  /** Map iteration order is insertion order: first = least recently used. */
  private readonly entries = new Map<string, Entry<V>>();
  /** marked models not freed yet (leased, or dispose() running) */
  private readonly draining = new Set<Entry<V>>();
  private readonly hooks: LruModelCacheHooks;

  /** `capacity` may be Infinity (a cache that only /gc empties). */
  constructor(
    private readonly capacity: number,
    hooks: LruModelCacheHooks | ((key: string) => void) = {},
    /** the clock idle eviction reads (tests pass their own) */
    private readonly now: () => number = Date.now,
  ) {
    if (!(capacity === Infinity || (Number.isInteger(capacity) && capacity >= 1))) throw new Error(`cache capacity must be ≥ 1, got ${capacity}`);
    this.hooks = typeof hooks === 'function' ? { onRemove: (key) => hooks(key) } : hooks;
  }

  /** Models in the cache (loading ones included, draining ones not). */
  get size(): number {
    return this.entries.size;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * A lease on the cached model, loading it when needed (a failed load is not cached and every
   * waiter gets its error). Touches the LRU order.
   */
  async acquire<T extends V>(key: string, load: () => Promise<T>): Promise<ModelLease<T>> {
    let entry = this.entries.get(key);
    const fresh = !entry;
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    } else {
      entry = new Entry<V>(key, Promise.resolve().then(load), this.now());
      this.entries.set(key, entry);
    }
    // counted from the moment of asking: an eviction or /gc during the load waits for this user
    entry.leases += 1;
    entry.lastUsed = this.now();
    let model: V;
    try {
      model = await entry.promise;
    } catch (error) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      this.letGo(entry);
      throw error;
    }
    if (fresh) this.evictOverflow();
    const held = entry;
    // a key always maps to one kind of model, chosen by the caller's key scheme
    return new Lease(model as T, () => this.letGo(held));
  }

  /** Loads the model into the cache (or finds it there) without holding it: warm-up, boot checks. */
  async warm<T extends V>(key: string, load: () => Promise<T>): Promise<T> {
    const lease = await this.acquire(key, load);
    lease.release();
    return lease.model;
  }

  /** Every loaded model in memory: the cache (least recently used first), then those draining. */
  snapshot(): CacheEntryInfo<V>[] {
    const info = (entry: Entry<V>, draining: boolean): CacheEntryInfo<V>[] =>
      entry.value === undefined ? [] : [{ key: entry.key, model: entry.value, leases: entry.leases, draining }];
    return [...[...this.entries.values()].flatMap((e) => info(e, false)), ...[...this.draining].flatMap((e) => info(e, true))];
  }

  /** Takes every model out of the cache: unleased ones are freed before this resolves, leased ones when released. */
  async clear(): Promise<ClearResult> {
    const all = [...this.entries.values()];
    this.entries.clear();
    let pending = 0;
    const now: Promise<boolean>[] = [];
    for (const entry of all) {
      if (entry.leases > 0) pending += 1;
      const disposal = this.retire(entry, 'cleared');
      if (disposal) now.push(disposal);
    }
    const freed = (await Promise.all(now)).filter(Boolean).length;
    return { unloaded: freed + pending, pending };
  }

  /** Takes one model out of the cache (freed now when nobody holds it, else with its last lease); unloaded 0 when it was not cached. */
  async remove(key: string): Promise<ClearResult> {
    const entry = this.entries.get(key);
    if (!entry) return { unloaded: 0, pending: 0 };
    this.entries.delete(key);
    const disposal = this.retire(entry, 'removed');
    if (disposal) return { unloaded: (await disposal) ? 1 : 0, pending: 0 };
    return { unloaded: 1, pending: 1 };
  }

  /**
   * Frees the loaded models nobody has taken or released for `idleMs`: never one under lease, nor
   * one still loading. Returns the keys it freed.
   */
  async evictIdle(idleMs: number): Promise<string[]> {
    const now = this.now();
    const idle = [...this.entries.values()].filter((e) => e.leases === 0 && e.value !== undefined && now - e.lastUsed >= idleMs);
    const freed = await Promise.all(
      idle.map(async (entry) => {
        this.entries.delete(entry.key);
        return (await this.retire(entry, 'idle')) ? [entry.key] : [];
      }),
    );
    return freed.flat();
  }

  /** ms until the next cached model becomes idle for `idleMs` (undefined: none can, all are leased or loading). */
  nextIdleInMs(idleMs: number): number | undefined {
    const now = this.now();
    const waits = [...this.entries.values()].filter((e) => e.leases === 0 && e.value !== undefined).map((e) => Math.max(0, e.lastUsed + idleMs - now));
    return waits.length > 0 ? Math.min(...waits) : undefined;
  }

  /** Resolves when every model marked so far has been freed (their leases released). */
  async drained(): Promise<void> {
    while (this.draining.size > 0) {
      await Promise.all([...this.draining].map((entry) => entry.disposal ?? new Promise<void>((resolve) => setTimeout(resolve, 10))));
    }
  }

  private evictOverflow(): void {
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.values().next().value as Entry<V>;
      this.entries.delete(oldest.key);
      void this.retire(oldest, 'evicted');
    }
  }

  /** Marks an entry that has left the map; returns its disposal when nobody holds it. */
  private retire(entry: Entry<V>, reason: RemovalReason): Promise<boolean> | undefined {
    entry.retired = true;
    this.draining.add(entry);
    this.hooks.onRemove?.(entry.key, reason, entry.leases);
    return entry.leases === 0 ? this.dispose(entry) : undefined;
  }

  private letGo(entry: Entry<V>): void {
    entry.leases -= 1;
    entry.lastUsed = this.now();
    if (entry.retired && entry.leases === 0) void this.dispose(entry);
  }

  /** Once per entry: true when a loaded model was freed, false when its load had failed or dispose threw. */
  private dispose(entry: Entry<V>): Promise<boolean> {
    entry.disposal ??= (async () => {
      try {
        let model: V;
        try {
          model = await entry.promise;
        } catch {
          return false;
        }
        try {
          await model.dispose();
        } catch (error) {
          this.hooks.onDisposeError?.(entry.key, error);
          return false;
        }
        this.hooks.onDisposed?.(entry.key);
        return true;
      } finally {
        this.draining.delete(entry);
      }
    })();
    return entry.disposal;
  }
}
