import { ErrorCode, ServiceError } from './errors';
import { checkDetectLanguageOptions } from './detect-language';
import { DetectLanguageJobData, TranscribeJobData } from './jobs';
import { checkTranscribeOptions } from './transcribe-options';

function fail(field: string, message: string): never {
  throw new ServiceError(ErrorCode.ValidationFailed, message, field);
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Checks a job payload read back from Redis. The API validated it already, but Redis is shared:
 * anything could have enqueued it, so the worker trusts nothing. The options are checked against
 * the same table as the API's form (transcribe-options.ts), defaults and cross-field rules included.
 */
export function parseTranscribeJobData(data: unknown): TranscribeJobData {
  const { options, ...upload } = parseUpload(data);
  return { options: checkTranscribeOptions(options), ...upload };
}

/** The same checks for a detect-language job (its options: whisper_model and vad). */
export function parseDetectLanguageJobData(data: unknown): DetectLanguageJobData {
  const { options, ...upload } = parseUpload(data);
  return { options: checkDetectLanguageOptions(options), ...upload };
}

/** What every upload job carries besides its options. */
function parseUpload(data: unknown): Omit<TranscribeJobData, 'options'> & { options: Record<string, unknown> } {
  if (typeof data !== 'object' || data === null) fail('data', 'job data must be an object');
  const { options, sizeBytes, acceptedAt, fileName, owner } = data as Record<string, unknown>;
  if (typeof options !== 'object' || options === null) fail('options', 'job options missing');
  if (!isCount(sizeBytes)) fail('sizeBytes', 'sizeBytes must be an integer');
  if (!isCount(acceptedAt)) fail('acceptedAt', 'acceptedAt must be an epoch ms');
  return {
    options: options as Record<string, unknown>,
    sizeBytes,
    acceptedAt,
    fileName: typeof fileName === 'string' ? fileName : undefined,
    owner: typeof owner === 'string' ? owner : undefined,
  };
}
