import { Inject, Injectable, Logger } from '@nestjs/common';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { AlignmentModelLocation, AlignmentModelUnavailable, ensureAlignmentModel, locateAlignmentModel, Wav2Vec2CtcModel } from '@app/alignment';
import { hideModelDir, inModelDir } from '@app/model-cache';
import { LoadedModel, ModelCacheService } from '../models/model-cache.service';
import { downloadOptions, inferenceThreads } from '../models/model-loading';

export interface LoadedAlignmentModel extends LoadedModel {
  model: Wav2Vec2CtcModel;
}

/** wav2vec2 CTC models per language (kind "align"), resolved from MODEL_DIR/align/<lang>/ or downloaded. */
@Injectable()
export class AlignmentModelsService {
  private readonly logger = new Logger(AlignmentModelsService.name);

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly cache: ModelCacheService,
  ) {}

  /** Throws AlignmentModelUnavailable (with the reason) when there is no model for the language. */
  acquire(language: string): Promise<LoadedAlignmentModel> {
    const location = locateAlignmentModel(language, this.config.modelDir);
    const key = `align:${location.dir}:${this.config.device}`;
    return this.cache.getOrLoad(key, async () => {
      await ensureAlignmentModel(location, downloadOptions(this.config, this.logger));
      const { name } = locateAlignmentModel(language, this.config.modelDir);
      const started = Date.now();
      const model = await Wav2Vec2CtcModel.load(location.dir, name, {
        useGpu: this.config.device === 'cuda',
        threads: inferenceThreads(this.config),
      }).catch((error: unknown) => {
        throw this.loadFailure(location, error);
      });
      this.logger.log(`loaded alignment model ${name} for ${language} in ${Date.now() - started} ms`);
      return { model, label: `align:${language}/${name}`, dispose: () => model.release() };
    });
  }

  /** A model that is there but does not load: the full error to the log, the result's reason without server paths. */
  private loadFailure(location: AlignmentModelLocation, error: unknown): AlignmentModelUnavailable {
    const message = (error as Error)?.message ?? String(error);
    this.logger.warn(`alignment model in ${location.dir} failed to load: ${message}`);
    const folder = inModelDir(location.dir, location.modelDir);
    return new AlignmentModelUnavailable(`alignment model in ${folder} failed to load: ${hideModelDir(message, location.modelDir)}`);
  }
}
