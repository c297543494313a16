import { ErrorCode, ServiceError } from './errors';
import { TranscribeJobData } from './jobs';
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
  if (typeof data !== 'object' || data === null) fail('data', 'job data must be an object');
  const { options, sizeBytes, acceptedAt, fileName, owner } = data as Record<string, unknown>;
  if (typeof options !== 'object' || options === null) fail('options', 'job options missing');
  const checked = checkTranscribeOptions(options as Record<string, unknown>);
  if (!isCount(sizeBytes)) fail('sizeBytes', 'sizeBytes must be an integer');
  if (!isCount(acceptedAt)) fail('acceptedAt', 'acceptedAt must be an epoch ms');
  return {
    options: checked,
    sizeBytes,
    acceptedAt,
    fileName: typeof fileName === 'string' ? fileName : undefined,
    owner: typeof owner === 'string' ? owner : undefined,
  };
}
