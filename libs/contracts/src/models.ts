import { ErrorCode, ServiceError } from './errors';

/** Whisper model names users may ask for, besides custom `ggml-<name>.bin` files in MODEL_DIR. */
export const OFFICIAL_WHISPER_MODELS = [
  'tiny', 'tiny.en', 'base', 'base.en', 'small', 'small.en', 'medium', 'medium.en',
  'large-v1', 'large-v2', 'large-v3', 'large-v3-turbo',
] as const;
export type OfficialWhisperModel = (typeof OFFICIAL_WHISPER_MODELS)[number];

export function isOfficialWhisperModel(name: string): name is OfficialWhisperModel {
  return (OFFICIAL_WHISPER_MODELS as readonly string[]).includes(name);
}

/** A custom model name is a file-name fragment: no paths, no dots-only, bounded length. */
export const CUSTOM_MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type Device = 'cpu' | 'cuda';
export type ComputeType = 'float16' | 'int8';

/** Official English-only models (the .en names): known from the name alone, before any file is loaded. */
export function isEnglishOnlyModelName(name: string): boolean {
  return isOfficialWhisperModel(name) && name.endsWith('.en');
}

/**
 * An English-only model transcribes English only, so every allowed_languages code must be "en"
 * (one "en" among others would be silently ignored otherwise).
 */
export function assertEnglishOnlyLanguages(modelName: string, allowed: readonly string[] | undefined): void {
  const others = (allowed ?? []).filter((code) => code !== 'en');
  if (others.length === 0) return;
  throw new ServiceError(
    ErrorCode.UnsupportedLanguage,
    `model "${modelName}" is English-only: allowed_languages may list only "en", not ${others.join(', ')}`,
    'allowed_languages',
  );
}
