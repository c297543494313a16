import { existsSync } from 'node:fs';
import { ErrorCode, ServiceError } from '@app/contracts';
import { downloadFile, DownloadOptions } from '@app/model-cache';
import { WhisperModelSpec } from './model-registry';

function unavailable(spec: WhisperModelSpec, why: string): ServiceError {
  return new ServiceError(
    ErrorCode.ModelUnavailable,
    `model "${spec.name}" is not in MODEL_DIR and could not be downloaded (${why}); place ${spec.fileName} at ${spec.path}`,
    'whisper_model',
  );
}

/** Makes sure the model file exists, downloading official models (atomic rename, never a half file). */
export async function ensureWhisperModelFile(spec: WhisperModelSpec, options: DownloadOptions): Promise<string> {
  if (existsSync(spec.path)) return spec.path;
  if (!spec.url) throw unavailable(spec, 'no download source for custom models');
  try {
    await downloadFile(spec.url, spec.path, options);
  } catch (error) {
    throw unavailable(spec, (error as Error).message);
  }
  return spec.path;
}
