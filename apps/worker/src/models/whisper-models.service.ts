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
import { LoadedModel, ModelCacheService } from './model-cache.service';
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

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly cache: ModelCacheService,
  ) {}

  /** Resolves (throws unknown_model / model_unavailable) and returns the loaded model. */
  acquire(name: string | undefined): Promise<LoadedWhisperModel> {
    const spec = resolveWhisperModel(name ?? this.config.whisperModel, this.config.computeType, this.config.modelDir);
    // keyed by the file actually loaded and the device: the default model and its explicit name share one entry
    const key = `whisper:${spec.fileName}:${this.config.device}`;
    return this.cache.getOrLoad(key, async () => {
      const path = await ensureWhisperModelFile(spec, downloadOptions(this.config, this.logger));
      const started = Date.now();
      const handle = await loadWhisperModel(path, { useGpu: this.config.device === 'cuda' });
      this.logger.log(`loaded ${spec.fileName} on ${this.config.device} in ${Date.now() - started} ms`);
      return { spec, handle, label: `${spec.name}/${precisionLabel(spec)}`, dispose: () => handle.free() };
    });
  }

  availableModels(): string[] {
    return listLocalWhisperModels(this.config.modelDir);
  }
}
