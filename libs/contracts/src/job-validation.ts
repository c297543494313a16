import { ErrorCode, ServiceError } from './errors';
import { TranscribeJobData } from './jobs';
import { isWhisperLanguage } from './languages';
import { CUSTOM_MODEL_NAME_PATTERN } from './models';

function fail(field: string, message: string): never {
  throw new ServiceError(ErrorCode.ValidationFailed, message, field);
}

const isInt = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/**
 * Checks a job payload read back from Redis. The API validated it already, but Redis is shared:
 * anything could have enqueued it, so the worker trusts nothing.
 */
export function parseTranscribeJobData(data: unknown): TranscribeJobData {
  if (typeof data !== 'object' || data === null) fail('data', 'job data must be an object');
  const { options, sizeBytes, acceptedAt, fileName, owner } = data as Record<string, unknown>;
  if (typeof options !== 'object' || options === null) fail('options', 'job options missing');
  const o = options as Record<string, unknown>;
  if (!isInt(o.batchSize, 1, 64)) fail('batch_size', 'batch_size must be an integer 1..64');
  if (typeof o.diarize !== 'boolean') fail('diarize', 'diarize must be a boolean');
  if (o.vad !== undefined && typeof o.vad !== 'boolean') fail('vad', 'vad must be a boolean');
  if (typeof o.alignWords !== 'boolean') fail('align_words', 'align_words must be a boolean');
  if (o.whisperModel !== undefined && (typeof o.whisperModel !== 'string' || !CUSTOM_MODEL_NAME_PATTERN.test(o.whisperModel))) {
    fail('whisper_model', 'whisper_model is not a valid name');
  }
  for (const field of ['minSpeakers', 'maxSpeakers'] as const) {
    if (o[field] !== undefined && !isInt(o[field], 1, 100)) fail(field, `${field} must be an integer ≥ 1`);
  }
  if (typeof o.minSpeakers === 'number' && typeof o.maxSpeakers === 'number' && o.minSpeakers > o.maxSpeakers) {
    fail('min_speakers', 'min_speakers must not exceed max_speakers');
  }
  if (o.allowedLanguages !== undefined) {
    if (!Array.isArray(o.allowedLanguages) || o.allowedLanguages.length === 0) fail('allowed_languages', 'allowed_languages must be a non-empty list');
    for (const code of o.allowedLanguages) {
      if (typeof code !== 'string' || !isWhisperLanguage(code)) fail('allowed_languages', `unknown language code "${String(code)}"`);
    }
  }
  if (!isInt(sizeBytes, 0, Number.MAX_SAFE_INTEGER)) fail('sizeBytes', 'sizeBytes must be an integer');
  if (!isInt(acceptedAt, 0, Number.MAX_SAFE_INTEGER)) fail('acceptedAt', 'acceptedAt must be an epoch ms');
  return {
    options: {
      batchSize: o.batchSize,
      // jobs queued before the field existed decode with VAD, the default
      vad: o.vad ?? true,
      diarize: o.diarize,
      alignWords: o.alignWords,
      whisperModel: o.whisperModel as string | undefined,
      minSpeakers: o.minSpeakers as number | undefined,
      maxSpeakers: o.maxSpeakers as number | undefined,
      allowedLanguages: o.allowedLanguages as string[] | undefined,
    },
    sizeBytes,
    acceptedAt,
    fileName: typeof fileName === 'string' ? fileName : undefined,
    owner: typeof owner === 'string' ? owner : undefined,
  };
}
