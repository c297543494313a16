import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { CachedModel, LruModelCache } from '@app/model-cache';

/** Anything the worker keeps loaded: whisper contexts, ONNX sessions. */
export interface LoadedModel extends CachedModel {
  /** how /health lists it, e.g. "small/int8" or "align:en/wav2vec2-base-960h" */
  label: string;
}

/**
 * The worker's one LRU of loaded models (MODEL_CACHE_SIZE entries across all kinds). Keys are
 * `<kind>:<what was loaded>:<device>`, so one file is never loaded twice under two names.
 */
@Injectable()
export class ModelCacheService implements OnApplicationShutdown {
  private readonly logger = new Logger(ModelCacheService.name);
  private readonly cache: LruModelCache<LoadedModel>;

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.cache = new LruModelCache(config.modelCacheSize, (key) => this.logger.log(`unloading ${key}`));
  }

  getOrLoad<T extends LoadedModel>(key: string, load: () => Promise<T>): Promise<T> {
    return this.cache.getOrLoad(key, load);
  }

  async loadedLabels(): Promise<string[]> {
    return (await this.cache.loaded()).map((model) => model.label);
  }

  get size(): number {
    return this.cache.size;
  }

  /** Drops every model (whisper_free / InferenceSession.release); returns how many. */
  unloadAll(): Promise<number> {
    return this.cache.clear();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.unloadAll();
  }
}
