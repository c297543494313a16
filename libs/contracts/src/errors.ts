/** Machine-readable error codes returned in `{"error": {"code", "message", "field"}}` bodies. */
export enum ErrorCode {
  ValidationFailed = 'validation_failed',
  MissingFile = 'missing_file',
  EmptyFile = 'empty_file',
  UploadTooLarge = 'upload_too_large',
  UnsupportedMedia = 'unsupported_media',
  /** the request body is not multipart/form-data (the API takes nothing else) */
  UnsupportedMediaType = 'unsupported_media_type',
  /** the client stopped sending its upload for longer than UPLOAD_IDLE_TIMEOUT_S */
  RequestTimeout = 'request_timeout',
  /** decoding hit the server's DECODE_TIMEOUT_S limit (a server limit, not bad audio) */
  DecodeTimeout = 'decode_timeout',
  /** this key already has MAX_QUEUED_PER_KEY jobs waiting */
  TooManyQueuedJobs = 'too_many_queued_jobs',
  /** this key (or client IP) made more than RATE_LIMIT_PER_MIN requests in the current minute */
  RateLimited = 'rate_limited',
  InvalidAudio = 'invalid_audio',
  AudioTooLong = 'audio_too_long',
  UnknownModel = 'unknown_model',
  ModelUnavailable = 'model_unavailable',
  UnsupportedLanguage = 'unsupported_language',
  JobNotFound = 'job_not_found',
  JobCancelled = 'job_cancelled',
  JobFinished = 'job_finished',
  /** GET /jobs/:id/result on a job still queued or running, or one that failed: no transcript to write */
  JobNotCompleted = 'job_not_completed',
  NotFound = 'not_found',
  AudioExpired = 'audio_expired',
  Unauthorized = 'unauthorized',
  Forbidden = 'forbidden',
  RedisUnavailable = 'redis_unavailable',
  NoWorkers = 'no_workers',
  /** a synchronous request that cannot answer 202 (OpenAI's routes) waited SYNC_TIMEOUT_S: the job goes on, GET /jobs/:id has it */
  TranscriptionTimeout = 'transcription_timeout',
  /** audio_url could not be downloaded: the server's HTTP status (after redirects) or the network failure is in the message */
  AudioUrlUnreachable = 'audio_url_unreachable',
  /** audio_url (or one of its redirects) points to an address the SSRF rules refuse */
  AudioUrlRefused = 'audio_url_refused',
  /** the audio_url download stalled or passed AUDIO_URL_TIMEOUT_S */
  AudioUrlTimeout = 'audio_url_timeout',
  Internal = 'internal_error',
}

export interface ErrorBody {
  error: { code: ErrorCode | string; message: string; field?: string; error_id?: string };
}

/** HTTP status each code maps to (the API's single mapping table). */
export const ERROR_HTTP_STATUS: Record<ErrorCode, number> = {
  [ErrorCode.ValidationFailed]: 400,
  [ErrorCode.MissingFile]: 400,
  [ErrorCode.EmptyFile]: 400,
  [ErrorCode.UploadTooLarge]: 413,
  [ErrorCode.UnsupportedMedia]: 415,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.RequestTimeout]: 408,
  [ErrorCode.DecodeTimeout]: 503,
  [ErrorCode.TooManyQueuedJobs]: 429,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.InvalidAudio]: 422,
  [ErrorCode.AudioTooLong]: 413,
  [ErrorCode.UnknownModel]: 400,
  [ErrorCode.ModelUnavailable]: 503,
  [ErrorCode.UnsupportedLanguage]: 400,
  [ErrorCode.JobNotFound]: 404,
  [ErrorCode.JobCancelled]: 409,
  [ErrorCode.JobFinished]: 409,
  [ErrorCode.JobNotCompleted]: 409,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.AudioExpired]: 410,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.RedisUnavailable]: 503,
  [ErrorCode.NoWorkers]: 503,
  [ErrorCode.TranscriptionTimeout]: 504,
  [ErrorCode.AudioUrlUnreachable]: 502,
  [ErrorCode.AudioUrlRefused]: 422,
  [ErrorCode.AudioUrlTimeout]: 504,
  [ErrorCode.Internal]: 500,
};

/** A failure with a code that crosses process boundaries (worker → Redis → API). */
export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    /** set on internal errors whose stack was logged elsewhere (a worker) under this id */
    readonly errorId?: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/**
 * The one shape of "the job was cancelled". Every place where work stops for a cancel raises it:
 * whisper.cpp's abort, ffmpeg killed mid-decode, the checks between ONNX runs and between stages
 * (throwIfCancelled). The worker maps exactly this type to job_cancelled.
 */
export class JobCancelledError extends ServiceError {
  constructor(message = 'job was cancelled') {
    super(ErrorCode.JobCancelled, message);
    this.name = 'JobCancelledError';
  }
}

/** The check between units of work: throws JobCancelledError once the job's signal is aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new JobCancelledError();
}

const JOB_ERROR_PREFIX = 'tx-error:';

export interface JobError {
  code: ErrorCode;
  message: string;
  field?: string;
  /** internal errors only: the id the worker logged the stack under */
  error_id?: string;
}

/** Encodes a coded failure into a BullMQ failedReason string. */
export function encodeJobError(code: ErrorCode, message: string, field?: string, errorId?: string): string {
  return JOB_ERROR_PREFIX + JSON.stringify({ code, message, field, error_id: errorId });
}

/** Decodes a failedReason; anything not written by encodeJobError is an internal error. */
export function decodeJobError(reason: string | undefined): JobError {
  if (reason?.startsWith(JOB_ERROR_PREFIX)) {
    try {
      const parsed = JSON.parse(reason.slice(JOB_ERROR_PREFIX.length)) as JobError;
      if (Object.values(ErrorCode).includes(parsed.code)) return parsed;
    } catch {
      // fall through: treat as internal
    }
  }
  return { code: ErrorCode.Internal, message: reason || 'job failed' };
}
