/**
 * A small LRU of loaded models with async dispose. Loads of the same key share one
 * promise, so two jobs asking for a model at once load it once.
 */
export interface CachedModel {
  /** frees native memory; must be safe while the model is still in use (defers until idle) */
  dispose(): Promise<void>;
}

interface Entry<V> {
  key: string;
  value: Promise<V>;
}

export class LruModelCache<V extends CachedModel> {
  /** Map iteration order is insertion order: first = least recently used. */
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    private readonly capacity: number,
    private readonly onEvict: (key: string) => void = () => undefined,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`cache capacity must be ≥ 1, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Models whose load finished, least recently used first; does not touch the LRU order. */
  async loaded(): Promise<V[]> {
    const settled = await Promise.allSettled([...this.entries.values()].map((entry) => entry.value));
    return settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Returns the cached model or loads it; a failed load is not cached. */
  async getOrLoad<T extends V>(key: string, load: () => Promise<T>): Promise<T> {
    const existing = this.entries.get(key);
    if (existing) {
      this.entries.delete(key);
      this.entries.set(key, existing);
      // a key always maps to one kind of model, chosen by the caller's key scheme
      return existing.value as Promise<T>;
    }
    const value = load();
    const entry: Entry<V> = { key, value };
    this.entries.set(key, entry);
    try {
      const loaded = await value;
      await this.evictOverflow();
      return loaded;
    } catch (error) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw error;
    }
  }

  /** Unloads everything; returns how many models were unloaded. */
  async clear(): Promise<number> {
    const all = [...this.entries.values()];
    this.entries.clear();
    const results = await Promise.allSettled(all.map((entry) => this.disposeEntry(entry)));
    return results.filter((r) => r.status === 'fulfilled' && r.value).length;
  }

  private async evictOverflow(): Promise<void> {
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.values().next().value as Entry<V>;
      this.entries.delete(oldest.key);
      await this.disposeEntry(oldest);
    }
  }

  /** true when a loaded model was disposed, false when its load had failed */
  private async disposeEntry(entry: Entry<V>): Promise<boolean> {
    let model: V;
    try {
      model = await entry.value;
    } catch {
      return false;
    }
    this.onEvict(entry.key);
    await model.dispose();
    return true;
  }
}
