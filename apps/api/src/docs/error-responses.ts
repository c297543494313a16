import type { ResponsesObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ERROR_HTTP_STATUS, ErrorBody, ErrorCode, toOpenAiError } from '@app/contracts';
import { ref } from './body-schemas';

/**
 * Error responses of a route: one entry per HTTP status, each with the error body's schema and an
 * example per error code (built with the same functions the API answers with: our
 * {"error":{code,message,field}}, or OpenAI's shape under /v1 via toOpenAiError).
 */

/** A message and field typical of each code, for the examples. */
const EXAMPLES: Readonly<Record<ErrorCode, { message: string; field?: string }>> = {
  [ErrorCode.ValidationFailed]: { message: 'batch_size must be between 1 and 64, got 0', field: 'batch_size' },
  [ErrorCode.MissingFile]: { message: 'send the audio as multipart field "file"', field: 'file' },
  [ErrorCode.EmptyFile]: { message: 'the uploaded file is empty', field: 'file' },
  [ErrorCode.UploadTooLarge]: { message: 'File too large', field: 'file' },
  [ErrorCode.UnsupportedMedia]: { message: 'ffmpeg found no audio stream in the upload', field: 'file' },
  [ErrorCode.UnsupportedMediaType]: { message: 'request bodies must be multipart/form-data (got "application/json")' },
  [ErrorCode.RequestTimeout]: { message: 'the upload sent nothing for 30 s (UPLOAD_IDLE_TIMEOUT_S)' },
  [ErrorCode.DecodeTimeout]: { message: 'decoding the upload took longer than DECODE_TIMEOUT_S (300 s)' },
  [ErrorCode.TooManyQueuedJobs]: { message: 'this key already has 100 jobs waiting (MAX_QUEUED_PER_KEY); retry when some have finished' },
  [ErrorCode.RateLimited]: { message: 'more than 600 requests in a minute (RATE_LIMIT_PER_MIN); retry in 12 s (Retry-After)' },
  [ErrorCode.InvalidAudio]: { message: 'the upload could not be decoded as audio', field: 'file' },
  [ErrorCode.AudioTooLong]: { message: 'the audio is 5 h long; this server accepts at most 4 h (MAX_AUDIO_SECONDS)', field: 'file' },
  [ErrorCode.UnknownModel]: { message: 'no worker can serve model "huge": not an official model and no worker has ggml-huge.bin', field: 'whisper_model' },
  [ErrorCode.ModelUnavailable]: { message: 'model "large-v3" could not be downloaded; retry later' },
  [ErrorCode.UnsupportedLanguage]: { message: 'tiny.en is English-only: allowed_languages must be en', field: 'allowed_languages' },
  [ErrorCode.JobNotFound]: { message: 'no job with this id (job ids are UUIDs as returned by POST /transcribe)' },
  [ErrorCode.JobCancelled]: { message: 'job was cancelled' },
  [ErrorCode.JobFinished]: { message: 'the job has finished: nothing to cancel' },
  [ErrorCode.JobNotCompleted]: { message: 'the job is active: its result is there once it has completed' },
  [ErrorCode.NotFound]: { message: 'no model "whisper-2": GET /v1/models lists them', field: 'model' },
  [ErrorCode.AudioExpired]: { message: 'the upload expired before a worker took it (AUDIO_TTL_S)' },
  [ErrorCode.Unauthorized]: { message: 'an API key is required (Authorization: Bearer <key> or X-API-Key)' },
  [ErrorCode.Forbidden]: { message: 'this API key is not accepted' },
  [ErrorCode.RedisUnavailable]: { message: 'Redis is not reachable: connect ECONNREFUSED 127.0.0.1:6379' },
  [ErrorCode.NoWorkers]: { message: 'no transcription worker is running; retry later or submit with async=true' },
  [ErrorCode.TranscriptionTimeout]: {
    message: 'the transcript was not ready within SYNC_TIMEOUT_S; job 0b8e… goes on: GET /jobs/0b8e… with the same key',
  },
  [ErrorCode.AudioUrlUnreachable]: { message: 'audio_url could not be downloaded: https://example.com/a.wav answered HTTP 404', field: 'audio_url' },
  [ErrorCode.AudioUrlRefused]: {
    message: 'audio_url refused: the URL points to a link-local address; only public addresses are allowed unless the host is in OUTBOUND_ALLOWED_HOSTS',
    field: 'audio_url',
  },
  [ErrorCode.AudioUrlTimeout]: { message: 'audio_url could not be downloaded: the download stalled: no bytes for 30000 ms', field: 'audio_url' },
  [ErrorCode.Internal]: { message: 'internal error (id 5f1c…)' },
};

const DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'Bad request: a field is invalid or missing (`field` names it)',
  401: 'No API key (API_KEYS is set)',
  403: 'The key (or token) is not accepted here',
  404: 'Not found',
  408: 'The upload stalled (UPLOAD_IDLE_TIMEOUT_S)',
  409: 'Conflict with the job\'s state',
  410: 'Gone',
  413: 'Upload or audio too large (MAX_UPLOAD_MB, MAX_AUDIO_SECONDS)',
  415: 'Not multipart/form-data, a compressed body, or no decodable audio',
  422: 'The upload is not decodable audio, or audio_url (or one of its redirects) led to a refused address at download',
  429: 'Too many jobs waiting for this key (MAX_QUEUED_PER_KEY), or too many requests in a minute (RATE_LIMIT_PER_MIN; Retry-After says when to retry)',
  500: 'Internal error (the log line carries the error_id)',
  502: 'audio_url could not be downloaded (the server\'s status or the network error is in the message)',
  503: 'Redis or workers unavailable; retry later',
  504: 'The transcript was not ready within SYNC_TIMEOUT_S (the job goes on), or the audio_url download timed out (AUDIO_URL_TIMEOUT_S, AUDIO_URL_STALL_S)',
};

type ErrorShape = 'service' | 'openai';

/** The responses for these error codes, grouped by status, with an example of each code. */
export function errorResponses(codes: readonly ErrorCode[], shape: ErrorShape): ResponsesObject {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_HTTP_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: ResponsesObject = {};
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const examples = Object.fromEntries(
      statusCodes.map((code) => {
        const { message, field } = EXAMPLES[code];
        const body: ErrorBody = { error: { code, message, ...(field ? { field } : {}), ...(status === 500 ? { error_id: '5f1c…' } : {}) } };
        return [code, { summary: code, value: shape === 'openai' ? toOpenAiError(status, body) : body }];
      }),
    );
    responses[String(status)] = {
      description: `${DESCRIPTIONS[status] ?? 'Error'}: ${statusCodes.join(', ')}`,
      content: { 'application/json': { schema: ref(shape === 'openai' ? 'OpenAiErrorBody' : 'ErrorBody'), examples } },
    };
  }
  return responses;
}
