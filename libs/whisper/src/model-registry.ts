import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ComputeType,
  CUSTOM_MODEL_NAME_PATTERN,
  ErrorCode,
  isOfficialWhisperModel,
  ServiceError,
} from '@app/contracts';
import { hubFileUrl } from '@app/model-cache';

/** Where whisper.cpp's official ggml files are published. */
export const WHISPER_HF_REPO = 'ggerganov/whisper.cpp';

/** Official models that have a q8_0 file in that repository (the others are used in f16). */
const HAS_Q8_0 = new Set(['tiny', 'tiny.en', 'base', 'base.en', 'small', 'small.en', 'medium', 'medium.en', 'large-v2', 'large-v3-turbo']);

export interface WhisperModelSpec {
  /** the name the user asked for, e.g. "small" */
  name: string;
  /** file in MODEL_DIR, e.g. "ggml-small-q8_0.bin" */
  fileName: string;
  path: string;
  /** weight precision actually used; part of the cache key */
  variant: 'f16' | 'q8_0' | 'custom';
  /** download address under the default endpoint (https://huggingface.co), for official models only */
  url?: string;
  /** the repository file behind url: downloads build the address under HF_ENDPOINT from it */
  hub?: { repo: string; file: string };
}

function officialFileName(name: string, computeType: ComputeType): { fileName: string; variant: 'f16' | 'q8_0' } {
  return computeType === 'int8' && HAS_Q8_0.has(name)
    ? { fileName: `ggml-${name}-q8_0.bin`, variant: 'q8_0' }
    : { fileName: `ggml-${name}.bin`, variant: 'f16' };
}

/**
 * Maps a model name to its file. Official names resolve even when the file is missing
 * (it can be downloaded); custom names must exist as ggml-<name>.bin in MODEL_DIR.
 */
export function resolveWhisperModel(name: string, computeType: ComputeType, modelDir: string): WhisperModelSpec {
  const dir = resolve(modelDir);
  if (isOfficialWhisperModel(name)) {
    const preferred = officialFileName(name, computeType);
    const other = officialFileName(name, computeType === 'int8' ? 'float16' : 'int8');
    // a file the operator already placed beats downloading the other precision
    const chosen = !existsSync(join(dir, preferred.fileName)) && existsSync(join(dir, other.fileName)) ? other : preferred;
    return {
      name,
      ...chosen,
      path: join(dir, chosen.fileName),
      url: hubFileUrl(WHISPER_HF_REPO, chosen.fileName),
      hub: { repo: WHISPER_HF_REPO, file: chosen.fileName },
    };
  }
  if (!CUSTOM_MODEL_NAME_PATTERN.test(name)) {
    throw new ServiceError(ErrorCode.UnknownModel, `"${name}" is not a valid model name`, 'whisper_model');
  }
  const quantized = `ggml-${name}-q8_0.bin`;
  const plain = `ggml-${name}.bin`;
  const fileName = computeType === 'int8' && existsSync(join(dir, quantized)) ? quantized : plain;
  if (!existsSync(join(dir, fileName))) {
    throw new ServiceError(
      ErrorCode.UnknownModel,
      `unknown whisper_model "${name}": not an official model and no ${plain} in MODEL_DIR`,
      'whisper_model',
    );
  }
  return { name, fileName, path: join(dir, fileName), variant: 'custom' };
}

/** Model names servable from MODEL_DIR without a download (for /health and request validation). */
export function listLocalWhisperModels(modelDir: string): string[] {
  let files: string[];
  try {
    files = readdirSync(modelDir);
  } catch {
    return [];
  }
  const names = files
    .map((file) => /^ggml-(.+?)(-q8_0)?\.bin$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined && CUSTOM_MODEL_NAME_PATTERN.test(name));
  return [...new Set(names)].sort();
}
