import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { downloadFile, DownloadOptions, hideModelDir, hubFileUrl, inModelDir } from '@app/model-cache';

/** Where the two diarization models live, and where they come from when missing. */
export const DIARIZATION_MODEL_FILES = {
  segmentation: 'segmentation.onnx',
  segmentationConfig: 'segmentation.json',
  embedding: 'embedding.onnx',
  embeddingConfig: 'embedding.json',
} as const;

/**
 * Public ONNX exports (no gated repos): pyannote segmentation-3.0 as converted for transformers.js,
 * and WeSpeaker's ResNet34-LM trained on VoxCeleb (256-d).
 */
export const DIARIZATION_DOWNLOADS = {
  segmentation: {
    name: 'pyannote-segmentation-3.0',
    repo: 'onnx-community/pyannote-segmentation-3.0',
    file: 'onnx/model.onnx',
    url: hubFileUrl('onnx-community/pyannote-segmentation-3.0', 'onnx/model.onnx'),
  },
  embedding: {
    name: 'wespeaker-voxceleb-resnet34-LM',
    repo: 'Wespeaker/wespeaker-voxceleb-resnet34-LM',
    file: 'voxceleb_resnet34_LM.onnx',
    url: hubFileUrl('Wespeaker/wespeaker-voxceleb-resnet34-LM', 'voxceleb_resnet34_LM.onnx'),
  },
} as const;

export class DiarizationModelUnavailable extends Error {}

export interface DiarizationModelPaths {
  /** MODEL_DIR (resolved): messages name dir relative to it */
  modelDir: string;
  /** MODEL_DIR/diarize */
  dir: string;
  segmentation: string;
  embedding: string;
  /** names reported in results (the json's "name", else the download's name) */
  segmentationName: string;
  embeddingName: string;
}

function configuredName(path: string, fallback: string): string {
  try {
    const config = JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown };
    return typeof config.name === 'string' ? config.name : fallback;
  } catch {
    return fallback;
  }
}

export function locateDiarizationModels(modelDir: string): DiarizationModelPaths {
  const root = resolve(modelDir);
  const dir = join(root, 'diarize');
  return {
    modelDir: root,
    dir,
    segmentation: join(dir, DIARIZATION_MODEL_FILES.segmentation),
    embedding: join(dir, DIARIZATION_MODEL_FILES.embedding),
    segmentationName: configuredName(join(dir, DIARIZATION_MODEL_FILES.segmentationConfig), DIARIZATION_DOWNLOADS.segmentation.name),
    embeddingName: configuredName(join(dir, DIARIZATION_MODEL_FILES.embeddingConfig), DIARIZATION_DOWNLOADS.embedding.name),
  };
}

/** Downloads whichever model is missing from HF_ENDPOINT (HF_AUTH_TOKEN as bearer); offline → DiarizationModelUnavailable. */
export async function ensureDiarizationModels(paths: DiarizationModelPaths, options: DownloadOptions): Promise<void> {
  for (const kind of ['segmentation', 'embedding'] as const) {
    if (existsSync(paths[kind])) continue;
    try {
      const { repo, file } = DIARIZATION_DOWNLOADS[kind];
      await downloadFile(hubFileUrl(repo, file, options.hfEndpoint), paths[kind], options);
    } catch (error) {
      const why = (error as Error).message;
      const file = DIARIZATION_MODEL_FILES[kind];
      (options.warn ?? options.log)(`${kind} model unavailable: place ${file} at ${paths[kind]} (${why})`);
      throw new DiarizationModelUnavailable(
        `${kind} model missing from MODEL_DIR and not downloadable (${hideModelDir(why, paths.modelDir)}); ` +
          `place ${file} in ${inModelDir(paths.dir, paths.modelDir)}`,
      );
    }
  }
}
