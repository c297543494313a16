import { statSync } from 'node:fs';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { LoadedModelInfo, LoadedModelKind } from '@app/contracts';
import { CachedModel, ClearResult, LruModelCache, ModelLease, RemovalReason } from '@app/model-cache';

/** Anything the worker keeps loaded: whisper contexts, ONNX sessions. */
export interface LoadedModel extends CachedModel {
  /** how /health lists it, e.g. "small/int8" or "align:en/wav2vec2-base-960h" */
  label: string;
  /** size of the file(s) loaded (≈ the weights' memory), as the heartbeat reports it */
  bytes: number;
  /** whisper models: the model name it was loaded for (DELETE /models/:name matches on it) */
  name?: string;
}

export type { ModelLease };

/** Sum of the sizes of the files that exist among `paths` (a model's .onnx and its optional .onnx_data). */
export function fileBytes(...paths: string[]): number {
  let total = 0;
  for (const path of paths) {
    try {
      total += statSync(path).size;
    } catch {
      // absent optional file
    }
  }
  return total;
}

/** The leases one job holds; all released together when the job ends. */
export class JobLeases {
  private readonly leases: ModelLease<LoadedModel>[] = [];

  /** Keeps the lease until releaseAll(); returns its model. */
  hold<T extends LoadedModel>(lease: ModelLease<T>): T {
    this.leases.push(lease);
    return lease.model;
  }

  get count(): number {
    return this.leases.length;
  }

  releaseAll(): void {
    for (const lease of this.leases.splice(0)) lease.release();
  }

  /**
   * Runs work with the job's leases when given (held until the job ends), else with leases of its
   * own that are released when the work ends.
   */
  static async within<T>(jobLeases: JobLeases | undefined, work: (leases: JobLeases) => Promise<T>): Promise<T> {
    const leases = jobLeases ?? new JobLeases();
    try {
      return await work(leases);
    } finally {
      if (!jobLeases) leases.releaseAll();
    }
  }
}

/** Cache traffic for an observer (worker metrics): each ask (hit or miss), each load, each removal. */
export type ModelCacheEvent =
  | { type: 'hit' | 'miss'; kind: LoadedModelKind }
  | { type: 'loaded'; kind: LoadedModelKind; seconds: number; ok: boolean }
  | { type: 'removed'; kind: LoadedModelKind; reason: RemovalReason };

/** What `unloadAll()` did, across every cache. */
export type UnloadResult = ClearResult;

/**
 * The worker's model caches, one per kind so that one kind never evicts another:
 * - whisper: LRU of MODEL_CACHE_SIZE, keyed `whisper:<file>:<device>` (the original service's meaning)
 * - align: LRU of ALIGN_CACHE_SIZE, keyed `align:<dir>:<device>` (one model per language)
 * - vad, diarize: one entry each (Silero; the segmentation + embedding pair), never evicted.
 * Users hold leases; eviction, /gc and DELETE /models free a model when its last lease is released.
 * With MODEL_IDLE_UNLOAD_S, a timer frees every model (any kind) nobody has used for that long.
 */
@Injectable()
export class ModelCacheService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ModelCacheService.name);
  private readonly caches: Record<LoadedModelKind, LruModelCache<LoadedModel>>;
  /** optional: told of hits, misses, loads and removals (the worker's metrics set it) */
  observer?: (event: ModelCacheEvent) => void;
  private readonly idleUnloadMs: number;
  private idleTimer?: NodeJS.Timeout;
  /** told when a model is freed (the heartbeat beats at once instead of up to 5 s later) */
  private readonly freedListeners = new Set<() => void>();
  /** told when a model leaves a cache (evicted or unloaded; draining while a job holds it) */
  private readonly removedListeners = new Set<() => void>();

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.idleUnloadMs = config.modelIdleUnloadS * 1000;
    const hooks = (kind: LoadedModelKind) => ({
      onRemove: (key: string, reason: RemovalReason, leases: number) => {
        this.observer?.({ type: 'removed', kind, reason });
        this.logger.log(leases > 0 ? `unloading ${key} (${reason}) once ${leases} job(s) using it let go` : `unloading ${key} (${reason})`);
        for (const listener of this.removedListeners) listener();
      },
      onDisposed: (key: string) => {
        this.logger.log(`freed ${key}`);
        for (const listener of this.freedListeners) listener();
      },
      onDisposeError: (key: string, error: unknown) => this.logger.warn(`freeing ${key} failed: ${(error as Error)?.message ?? String(error)}`),
    });
    this.caches = {
      whisper: new LruModelCache(config.modelCacheSize, hooks('whisper')),
      // one key (Silero on the CPU): loaded once, only /gc unloads it (and the next job reloads it)
      vad: new LruModelCache(1, hooks('vad')),
      align: new LruModelCache(config.alignCacheSize, hooks('align')),
      // one key (MODEL_DIR/diarize on DEVICE): the pair stays loaded, only /gc unloads it
      diarize: new LruModelCache(1, hooks('diarize')),
    };
  }

  /** A lease on the model (loaded when needed); release it when done, or hand it to a JobLeases. */
  acquire<T extends LoadedModel>(kind: LoadedModelKind, key: string, load: () => Promise<T>): Promise<ModelLease<T>> {
    return this.caches[kind].acquire(key, this.observed(kind, key, load));
  }

  /** Loads (or finds) the model without holding it: boot warm-up and load checks. */
  warm<T extends LoadedModel>(kind: LoadedModelKind, key: string, load: () => Promise<T>): Promise<T> {
    return this.caches[kind].warm(key, this.observed(kind, key, load));
  }

  /** Calls `listener` each time a model's memory is freed; returns the unsubscribe. */
  onFreed(listener: () => void): () => void {
    this.freedListeners.add(listener);
    return () => void this.freedListeners.delete(listener);
  }

  /** Calls `listener` each time a model leaves a cache (before it is freed: at once, or when its jobs let go); returns the unsubscribe. */
  onRemoved(listener: () => void): () => void {
    this.removedListeners.add(listener);
    return () => void this.removedListeners.delete(listener);
  }

  /** Whether the key is cached (loaded or loading, not draining). */
  has(kind: LoadedModelKind, key: string): boolean {
    return this.caches[kind].has(key);
  }

  /**
   * DELETE /models/:name: every cached model of the kind that matches, out of its cache; unleased
   * ones freed before this resolves, leased ones when their jobs let go (`pending`).
   */
  async unloadWhere(kind: LoadedModelKind, matches: (model: LoadedModel) => boolean): Promise<UnloadResult> {
    const cache = this.caches[kind];
    const keys = cache.snapshot().filter((e) => !e.draining && matches(e.model)).map((e) => e.key);
    const results = await Promise.all(keys.map((key) => cache.remove(key)));
    return results.reduce((sum, r) => ({ unloaded: sum.unloaded + r.unloaded, pending: sum.pending + r.pending }), { unloaded: 0, pending: 0 });
  }

  /** MODEL_IDLE_UNLOAD_S: frees the models (every kind) nobody took or released for `idleMs`; never one under lease. */
  async unloadIdle(idleMs: number): Promise<string[]> {
    const freed = await Promise.all(this.kinds().map(([, cache]) => cache.evictIdle(idleMs)));
    return freed.flat();
  }

  onApplicationBootstrap(): void {
    if (this.idleUnloadMs > 0) this.scheduleIdleCheck();
  }

  /** Wakes when the next model can have been idle long enough (at least every 30 s: jobs reset the clocks meanwhile). */
  private scheduleIdleCheck(): void {
    const waits = this.kinds().map(([, cache]) => cache.nextIdleInMs(this.idleUnloadMs)).filter((ms): ms is number => ms !== undefined);
    const delay = Math.max(250, Math.min(30_000, this.idleUnloadMs, ...waits.map((ms) => ms + 50)));
    this.idleTimer = setTimeout(() => {
      void this.unloadIdle(this.idleUnloadMs)
        .then((keys) => {
          if (keys.length > 0) this.logger.log(`unloaded ${keys.join(', ')}: unused for ${this.idleUnloadMs / 1000} s (MODEL_IDLE_UNLOAD_S)`);
        })
        .catch((error: Error) => this.logger.warn(`idle unload failed: ${error.message}`))
        .finally(() => {
          if (this.idleTimer) this.scheduleIdleCheck();
        });
    }, delay);
    this.idleTimer.unref();
  }

  /** Labels of the cached models (not those draining), as the heartbeat's `models` lists them. */
  loadedLabels(): string[] {
    return this.kinds().flatMap(([, cache]) => cache.snapshot().filter((e) => !e.draining).map((e) => e.model.label));
  }

  /** Every model in memory, draining ones included. */
  loadedModels(): LoadedModelInfo[] {
    return this.kinds().flatMap(([kind, cache]) =>
      cache.snapshot().map((e) => ({
        label: e.model.label,
        kind,
        bytes: e.model.bytes,
        in_use: e.leases,
        draining: e.draining,
        ...(e.model.name !== undefined ? { name: e.model.name } : {}),
      })),
    );
  }

  /** Models in the caches (loading ones included, draining ones not). */
  get size(): number {
    return this.kinds().reduce((sum, [, cache]) => sum + cache.size, 0);
  }

  /** /gc: every model out of every cache; unleased ones freed before this resolves, leased ones when their jobs let go. */
  async unloadAll(): Promise<UnloadResult> {
    const results = await Promise.all(this.kinds().map(([, cache]) => cache.clear()));
    return results.reduce((sum, r) => ({ unloaded: sum.unloaded + r.unloaded, pending: sum.pending + r.pending }), { unloaded: 0, pending: 0 });
  }

  /** Resolves once every model taken out of a cache so far has been freed. */
  async drained(): Promise<void> {
    await Promise.all(this.kinds().map(([, cache]) => cache.drained()));
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const { pending } = await this.unloadAll();
    if (pending > 0) this.logger.log(`${pending} model(s) still in use at shutdown: freed when their jobs end`);
  }

  /** Reports the ask as a hit or a miss, and wraps the load so its time and outcome are reported. */
  private observed<T extends LoadedModel>(kind: LoadedModelKind, key: string, load: () => Promise<T>): () => Promise<T> {
    const observer = this.observer;
    if (!observer) return load;
    observer({ type: this.caches[kind].has(key) ? 'hit' : 'miss', kind });
    return async () => {
      const started = performance.now();
      let ok = false;
      try {
        const model = await load();
        ok = true;
        return model;
      } finally {
        observer({ type: 'loaded', kind, seconds: (performance.now() - started) / 1000, ok });
      }
    };
  }

  private kinds(): [LoadedModelKind, LruModelCache<LoadedModel>][] {
    return Object.entries(this.caches) as [LoadedModelKind, LruModelCache<LoadedModel>][];
  }
}
