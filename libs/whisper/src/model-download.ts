import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, ServiceError } from '@app/contracts';
import { downloadFile, DownloadOptions, hideModelDir, hubFileUrl } from '@app/model-cache';
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

/** Where an official model downloads from: its repository file under HF_ENDPOINT. */
export function whisperModelUrl(spec: WhisperModelSpec, hfEndpoint?: string): string | undefined {
  return spec.hub ? hubFileUrl(spec.hub.repo, spec.hub.file, hfEndpoint) : spec.url;
}

/**
 * Makes sure the model file exists, downloading official models from HF_ENDPOINT (resumed, checked
 * against the hub's size and SHA-256, atomic rename: never a half file under the final name).
 */
export async function ensureWhisperModelFile(spec: WhisperModelSpec, options: DownloadOptions): Promise<string> {
  if (existsSync(spec.path)) return spec.path;
  const url = whisperModelUrl(spec, options.hfEndpoint);
  if (!url) throw unavailable(spec, 'no download source for custom models', options);
  try {
    await downloadFile(url, spec.path, options);
  } catch (error) {
    throw unavailable(spec, (error as Error).message, options);
  }
  return spec.path;
}
