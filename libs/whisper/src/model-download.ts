import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, ServiceError } from '@app/contracts';
import { downloadFile, DownloadOptions, hideModelDir } from '@app/model-cache';
import { WhisperModelSpec } from './model-registry';

/** model_unavailable naming the file relative to MODEL_DIR; the full path goes to the worker's log. */
function unavailable(spec: WhisperModelSpec, why: string, options: DownloadOptions): ServiceError {
  // official and custom files sit directly in MODEL_DIR
  const modelDir = dirname(spec.path);
  (options.warn ?? options.log)(`model "${spec.name}" unavailable: place ${spec.fileName} at ${spec.path} (${why})`);
  return new ServiceError(
    ErrorCode.ModelUnavailable,
    `model "${spec.name}" is not in MODEL_DIR and could not be downloaded (${hideModelDir(why, modelDir)}); ` +
      `place ${spec.fileName} in MODEL_DIR`,
    'whisper_model',
  );
}

/** Makes sure the model file exists, downloading official models (atomic rename, never a half file). */
export async function ensureWhisperModelFile(spec: WhisperModelSpec, options: DownloadOptions): Promise<string> {
  if (existsSync(spec.path)) return spec.path;
  if (!spec.url) throw unavailable(spec, 'no download source for custom models', options);
  try {
    await downloadFile(spec.url, spec.path, options);
  } catch (error) {
    throw unavailable(spec, (error as Error).message, options);
  }
  return spec.path;
}
