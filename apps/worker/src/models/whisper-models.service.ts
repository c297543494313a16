import { Inject, Injectable, Logger } from '@nestjs/common';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import {
  ensureWhisperModelFile,
  listLocalWhisperModels,
  loadWhisperModel,
  resolveWhisperModel,
  WhisperModelHandle,
  WhisperModelSpec,
} from '@app/whisper';
import { LoadedModel, ModelCacheService, ModelLease, UnloadResult } from './model-cache.service';
import { DownloadWatchers, ModelDownloadListener } from './download-watchers';
import { downloadOptions } from './model-loading';

export interface LoadedWhisperModel extends LoadedModel {
  spec: WhisperModelSpec;
  handle: WhisperModelHandle;
}

function precisionLabel(spec: WhisperModelSpec): string {
  if (spec.variant === 'q8_0') return 'int8';
  if (spec.variant === 'f16') return 'float16';
  return 'ggml';
}

/** Whisper models: name → file → (download) → loaded context, kept in the worker's model cache. */
@Injectable()
export class WhisperModelsService {
  private readonly logger = new Logger(WhisperModelsService.name);
  private readonly downloads = new DownloadWatchers();

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly cache: ModelCacheService,
  ) {}

  /**
   * Resolves (throws unknown_model / model_unavailable) and leases the loaded model: it is not freed
   * (eviction, /gc) until the lease is released.
   */
  async lease(name: string | undefined, onDownload?: ModelDownloadListener): Promise<ModelLease<LoadedWhisperModel>> {
    const { key, load } = this.loader(name);
    // a job that waits for another job's download still sees it arrive
    const unwatch = onDownload ? this.downloads.watch(key, onDownload) : undefined;
    try {
      return await this.cache.acquire('whisper', key, load);
    } finally {
      unwatch?.();
    }
  }

  /** Loads the model into the cache without holding it (boot warm-up): not for running it. */
  async acquire(name: string | undefined): Promise<LoadedWhisperModel> {
    const { key, load } = this.loader(name);
    return this.cache.warm('whisper', key, load);
  }

  /**
   * POST /models/:name/load: resolves (unknown_model / model_unavailable as ServiceErrors), downloads
   * when needed and loads it into the cache without holding it; `alreadyLoaded` when it was cached.
   */
  async preload(name: string): Promise<{ model: LoadedWhisperModel; alreadyLoaded: boolean }> {
    const { key, load } = this.loader(name);
    const alreadyLoaded = this.cache.has('whisper', key);
    return { model: await this.cache.warm('whisper', key, load), alreadyLoaded };
  }

  /**
   * DELETE /models/:name: every cached copy loaded for that name, whichever file it came from (a
   * name this worker has no file for is simply not loaded here).
   */
  unload(name: string): Promise<UnloadResult> {
    return this.cache.unloadWhere('whisper', (model) => model.name === name);
  }

  private loader(name: string | undefined): { key: string; load: () => Promise<LoadedWhisperModel> } {
    const spec = resolveWhisperModel(name ?? this.config.whisperModel, this.config.computeType, this.config.modelDir);
    // keyed by the file actually loaded and the device: the default model and its explicit name share one entry
    const key = `whisper:${spec.fileName}:${this.config.device}`;
    const load = async (): Promise<LoadedWhisperModel> => {
      const path = await ensureWhisperModelFile(spec, downloadOptions(this.config, this.logger, this.downloads.reporter(key)));
      const started = Date.now();
      const handle = await loadWhisperModel(path, { useGpu: this.config.device === 'cuda' });
      this.logger.log(`loaded ${spec.fileName} on ${this.config.device} in ${Date.now() - started} ms`);
      return { spec, handle, name: spec.name, label: `${spec.name}/${precisionLabel(spec)}`, bytes: handle.sizeBytes, dispose: () => handle.free() };
    };
    return { key, load };
  }

  availableModels(): string[] {
    return listLocalWhisperModels(this.config.modelDir);
  }
}
