import { join } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import {
  DIARIZATION_MODEL_FILES,
  DiarizationModelPaths,
  DiarizationModelUnavailable,
  ensureDiarizationModels,
  locateDiarizationModels,
  SegmentationModel,
  SpeakerEmbeddingModel,
} from '@app/diarization';
import { hideModelDir, inModelDir } from '@app/model-cache';
import { LoadedModel, ModelCacheService } from '../models/model-cache.service';
import { downloadOptions, inferenceThreads } from '../models/model-loading';

export interface LoadedDiarizationModels extends LoadedModel {
  segmentation: SegmentationModel;
  embedding: SpeakerEmbeddingModel;
  /** "segmentation + embedding" names, as results report them */
  name: string;
}

/** The segmentation + speaker-embedding pair (kind "diarize"), from MODEL_DIR/diarize/ or downloaded. */
@Injectable()
export class DiarizationModelsService {
  private readonly logger = new Logger(DiarizationModelsService.name);

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly cache: ModelCacheService,
  ) {}

  /** Throws DiarizationModelUnavailable (with the reason) when the models can't be had. */
  acquire(): Promise<LoadedDiarizationModels> {
    const paths = locateDiarizationModels(this.config.modelDir);
    return this.cache.getOrLoad(`diarize:${paths.dir}:${this.config.device}`, async () => {
      await ensureDiarizationModels(paths, downloadOptions(this.config, this.logger));
      return this.load(paths).catch((error: unknown) => {
        throw this.loadFailure(paths, error);
      });
    });
  }

  private async load(paths: DiarizationModelPaths): Promise<LoadedDiarizationModels> {
    const useGpu = this.config.device === 'cuda';
    const threads = inferenceThreads(this.config);
    const started = Date.now();
    const segmentation = await SegmentationModel.load(paths.segmentation, paths.segmentationName, {
      useGpu,
      threads,
      configPath: join(paths.dir, DIARIZATION_MODEL_FILES.segmentationConfig),
    });
    const embedding = await SpeakerEmbeddingModel.load(paths.embedding, paths.embeddingName, {
      useGpu,
      threads,
      configPath: join(paths.dir, DIARIZATION_MODEL_FILES.embeddingConfig),
    }).catch(async (error: unknown) => {
      await segmentation.release();
      throw error;
    });
    const name = `${segmentation.name} + ${embedding.name}`;
    this.logger.log(`loaded diarization models ${name} in ${Date.now() - started} ms`);
    return {
      segmentation,
      embedding,
      name,
      label: `diarize/${embedding.name}`,
      dispose: async () => {
        await Promise.all([segmentation.release(), embedding.release()]);
      },
    };
  }

  /** Models that are there but do not load: the full error to the log, the result's reason without server paths. */
  private loadFailure(paths: DiarizationModelPaths, error: unknown): DiarizationModelUnavailable {
    const message = (error as Error)?.message ?? String(error);
    this.logger.warn(`diarization models in ${paths.dir} failed to load: ${message}`);
    const folder = inModelDir(paths.dir, paths.modelDir);
    return new DiarizationModelUnavailable(`diarization models in ${folder} failed to load: ${hideModelDir(message, paths.modelDir)}`);
  }
}
