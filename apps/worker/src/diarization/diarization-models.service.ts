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
import { fileBytes, LoadedModel, ModelCacheService, ModelLease } from '../models/model-cache.service';
import { downloadOptions, inferenceThreads } from '../models/model-loading';

export interface LoadedDiarizationModels extends LoadedModel {
  segmentation: SegmentationModel;
  embedding: SpeakerEmbeddingModel;
  /** "segmentation + embedding" names, as results report them */
  name: string;
}

/**
 * The segmentation + speaker-embedding pair (kind "diarize", one cache entry that stays loaded until
 * /gc), from MODEL_DIR/diarize/ or downloaded.
 */
@Injectable()
export class DiarizationModelsService {
  private readonly logger = new Logger(DiarizationModelsService.name);

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly cache: ModelCacheService,
  ) {}

  /**
   * A lease on the pair (release it when done; it is not freed before). Throws
   * DiarizationModelUnavailable (with the reason) when the models can't be had.
   */
  async lease(): Promise<ModelLease<LoadedDiarizationModels>> {
    const { key, load } = this.loader();
    return this.cache.acquire('diarize', key, load);
  }

  /** Loads the pair into the cache without holding it (warm-up, load checks): not for running it. */
  async acquire(): Promise<LoadedDiarizationModels> {
    const { key, load } = this.loader();
    return this.cache.warm('diarize', key, load);
  }

  private loader(): { key: string; load: () => Promise<LoadedDiarizationModels> } {
    const paths = locateDiarizationModels(this.config.modelDir);
    const load = async (): Promise<LoadedDiarizationModels> => {
      await ensureDiarizationModels(paths, downloadOptions(this.config, this.logger));
      return this.load(paths).catch((error: unknown) => {
        throw this.loadFailure(paths, error);
      });
    };
    return { key: `diarize:${paths.dir}:${this.config.device}`, load };
  }

  private async load(paths: DiarizationModelPaths): Promise<LoadedDiarizationModels> {
    const useGpu = this.config.device === 'cuda';
    const threads = inferenceThreads(this.config);
    const log = (message: string) => this.logger.log(`diarization: ${message}`);
    const started = Date.now();
    const segmentation = await SegmentationModel.load(paths.segmentation, paths.segmentationName, {
      useGpu,
      threads,
      log,
      configPath: join(paths.dir, DIARIZATION_MODEL_FILES.segmentationConfig),
    });
    const embedding = await SpeakerEmbeddingModel.load(paths.embedding, paths.embeddingName, {
      useGpu,
      threads,
      log,
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
      bytes: fileBytes(paths.segmentation, `${paths.segmentation}_data`, paths.embedding, `${paths.embedding}_data`),
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
