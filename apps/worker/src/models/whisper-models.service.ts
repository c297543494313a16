import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { LruModelCache } from '@app/model-cache';
import {
  ensureWhisperModelFile,
  listLocalWhisperModels,
  loadWhisperModel,
  resolveWhisperModel,
  WhisperModelHandle,
  WhisperModelSpec,
} from '@app/whisper';

export interface LoadedWhisperModel {
  spec: WhisperModelSpec;
  handle: WhisperModelHandle;
  /** e.g. "small/int8", as /health lists it */
  label: string;
  dispose(): Promise<void>;
}

function precisionLabel(spec: WhisperModelSpec): string {
  if (spec.variant === 'q8_0') return 'int8';
  if (spec.variant === 'f16') return 'float16';
  return 'ggml';
}

/** The worker's whisper models: name → file → (download) → loaded context, kept in an LRU. */
@Injectable()
export class WhisperModelsService implements OnApplicationShutdown {
  private readonly logger = new Logger(WhisperModelsService.name);
  private readonly cache: LruModelCache<LoadedWhisperModel>;

  constructor(@Inject(SERVICE_CONFIG) private readonly config: ServiceConfig) {
    this.cache = new LruModelCache(config.modelCacheSize, (key) => this.logger.log(`unloading ${key}`));
  }

  /** Resolves (throws unknown_model / model_unavailable) and returns the loaded model. */
  acquire(name: string | undefined): Promise<LoadedWhisperModel> {
    const spec = resolveWhisperModel(name ?? this.config.whisperModel, this.config.computeType, this.config.modelDir);
    // keyed by the file actually loaded and the device: the default model and its explicit name share one entry
    const key = `whisper:${spec.fileName}:${this.config.device}`;
    return this.cache.getOrLoad(key, async () => {
      const path = await ensureWhisperModelFile(spec, {
        hfAuthToken: this.config.hfAuthToken,
        timeoutMs: this.config.modelDownloadTimeoutS * 1000,
        log: (message) => this.logger.log(message),
      });
      const started = Date.now();
      const handle = await loadWhisperModel(path, { useGpu: this.config.device === 'cuda' });
      this.logger.log(`loaded ${spec.fileName} on ${this.config.device} in ${Date.now() - started} ms`);
      return { spec, handle, label: `${spec.name}/${precisionLabel(spec)}`, dispose: () => handle.free() };
    });
  }

  /** Labels of the loaded models, for the heartbeat. */
  async loadedLabels(): Promise<string[]> {
    return (await this.cache.loaded()).map((model) => model.label);
  }

  availableModels(): string[] {
    return listLocalWhisperModels(this.config.modelDir);
  }

  get size(): number {
    return this.cache.size;
  }

  /** Drops every model; returns how many were unloaded. */
  unloadAll(): Promise<number> {
    return this.cache.clear();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.unloadAll();
  }
}
