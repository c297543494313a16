import { join } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { ALIGNMENT_MODEL_FILES, AlignmentModelLocation, AlignmentModelUnavailable, ensureAlignmentModel, locateAlignmentModel, Wav2Vec2CtcModel } from '@app/alignment';
import { hideModelDir, inModelDir } from '@app/model-cache';
import { fileBytes, LoadedModel, ModelCacheService, ModelLease } from '../models/model-cache.service';
import { downloadOptions, inferenceThreads } from '../models/model-loading';

export interface LoadedAlignmentModel extends LoadedModel {
  model: Wav2Vec2CtcModel;
}

/**
 * wav2vec2 CTC models per language (kind "align", an LRU of ALIGN_CACHE_SIZE), resolved from
 * MODEL_DIR/align/<lang>/ or downloaded.
 */
@Injectable()
export class AlignmentModelsService {
  private readonly logger = new Logger(AlignmentModelsService.name);

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly cache: ModelCacheService,
  ) {}

  /**
   * A lease on the language's model (release it when done; it is not freed before). Throws
   * AlignmentModelUnavailable (with the reason) when there is no model for the language.
   */
  async lease(language: string): Promise<ModelLease<LoadedAlignmentModel>> {
    const { key, load } = this.loader(language);
    return this.cache.acquire('align', key, load);
  }

  /** Loads the language's model into the cache without holding it (warm-up, load checks): not for running it. */
  async acquire(language: string): Promise<LoadedAlignmentModel> {
    const { key, load } = this.loader(language);
    return this.cache.warm('align', key, load);
  }

  private loader(language: string): { key: string; load: () => Promise<LoadedAlignmentModel> } {
    const location = locateAlignmentModel(language, this.config.modelDir);
    const key = `align:${location.dir}:${this.config.device}`;
    const load = async (): Promise<LoadedAlignmentModel> => {
      await ensureAlignmentModel(location, downloadOptions(this.config, this.logger));
      const { name } = locateAlignmentModel(language, this.config.modelDir);
      const started = Date.now();
      const model = await Wav2Vec2CtcModel.load(location.dir, name, {
        useGpu: this.config.device === 'cuda',
        threads: inferenceThreads(this.config),
        log: (message) => this.logger.log(`alignment ${language}: ${message}`),
      }).catch((error: unknown) => {
        throw this.loadFailure(location, error);
      });
      this.logger.log(`loaded alignment model ${name} for ${language} in ${Date.now() - started} ms`);
      const onnx = join(location.dir, ALIGNMENT_MODEL_FILES.model);
      return { model, label: `align:${language}/${name}`, bytes: fileBytes(onnx, `${onnx}_data`), dispose: () => model.release() };
    };
    return { key, load };
  }

  /** A model that is there but does not load: the full error to the log, the result's reason without server paths. */
  private loadFailure(location: AlignmentModelLocation, error: unknown): AlignmentModelUnavailable {
    const message = (error as Error)?.message ?? String(error);
    this.logger.warn(`alignment model in ${location.dir} failed to load: ${message}`);
    const folder = inModelDir(location.dir, location.modelDir);
    return new AlignmentModelUnavailable(`alignment model in ${folder} failed to load: ${hideModelDir(message, location.modelDir)}`);
  }
}
