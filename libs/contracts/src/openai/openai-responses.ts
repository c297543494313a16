import { ERROR_HTTP_STATUS, ErrorBody, ErrorCode } from '../errors';
import { FORMAT_MEDIA, RenderedTranscript, transcriptText, VerboseJson, writeSrt, writeVerboseJson, writeVtt } from '../formats/writers';
import type { SubtitleShaping } from '../formats/cues';
import type { TranscriptionResult } from '../jobs';
import type { OpenAiAnswerOptions } from './openai-form';

/**
 * A finished transcript in OpenAI's response shapes (POST /v1/audio/transcriptions), and our error
 * body in OpenAI's error shape. Pure: the /v1 controller sets the headers from what these return.
 */

/** OpenAI bills whisper-1 by the second: `usage` as its responses carry it (rounded up). */
export interface OpenAiDurationUsage {
  type: 'duration';
  seconds: number;
}

/** `json`: OpenAI's transcription object (only `text` and `usage`; our result's other fields are not in it). */
export interface OpenAiJsonTranscription {
  text: string;
  usage: OpenAiDurationUsage;
}

/** One segment of OpenAI's `diarized_json`. */
export interface OpenAiDiarizedSegment {
  type: 'transcript.text.segment';
  id: string;
  start: number;
  end: number;
  speaker: string;
  text: string;
}

/** `diarized_json`: OpenAI's TranscriptionDiarized. */
export interface OpenAiDiarizedTranscription {
  task: 'transcribe';
  duration: number;
  text: string;
  segments: OpenAiDiarizedSegment[];
  usage: OpenAiDurationUsage;
}

/** Speaker of a segment diarization could not attribute (no overlapping turn). */
export const UNKNOWN_SPEAKER = 'unknown';

const usageOf = (result: TranscriptionResult): OpenAiDurationUsage => ({ type: 'duration', seconds: Math.ceil(result.duration ?? 0) });

export function writeOpenAiDiarized(result: TranscriptionResult): OpenAiDiarizedTranscription {
  return {
    task: 'transcribe',
    duration: result.duration,
    text: transcriptText(result),
    segments: (result.segments ?? []).map((segment, index) => ({
      type: 'transcript.text.segment',
      id: `seg_${index}`,
      start: segment.start,
      end: segment.end,
      speaker: segment.speaker ?? UNKNOWN_SPEAKER,
      text: (segment.text ?? '').trim(),
    })),
    usage: usageOf(result),
  };
}

export type OpenAiRenderOptions = OpenAiAnswerOptions & SubtitleShaping;

/**
 * The transcript as OpenAI answers it: `json` is `{text, usage}`; `text` the whole transcript as one
 * line; `verbose_json` OpenAI's shape with `words` only when timestamp_granularities has `word`;
 * `srt`/`vtt` our subtitle writers (shaping options apply); `diarized_json` speaker segments.
 */
export function renderOpenAiTranscript(result: TranscriptionResult, options: OpenAiRenderOptions): RenderedTranscript {
  switch (options.responseFormat) {
    case 'json':
      return { kind: 'json', body: { text: transcriptText(result), usage: usageOf(result) } satisfies OpenAiJsonTranscription, ...FORMAT_MEDIA.json };
    case 'text':
      return { kind: 'text', body: `${transcriptText(result)}\n`, ...FORMAT_MEDIA.text };
    case 'srt':
      return { kind: 'text', body: writeSrt(result, options), ...FORMAT_MEDIA.srt };
    case 'vtt':
      return { kind: 'text', body: writeVtt(result, options), ...FORMAT_MEDIA.vtt };
    case 'verbose_json': {
      const verbose: VerboseJson & { usage: OpenAiDurationUsage } = {
        ...writeVerboseJson(result, { words: options.timestampGranularities.includes('word'), task: result.decoding?.task ?? options.task }),
        usage: usageOf(result),
      };
      // OpenAI reports the sampling temperature the segment was decoded at
      for (const segment of verbose.segments) segment.temperature = options.temperature;
      return { kind: 'json', body: verbose, ...FORMAT_MEDIA.verbose_json };
    }
    case 'diarized_json':
      return { kind: 'json', body: writeOpenAiDiarized(result), ...FORMAT_MEDIA.json };
  }
}

/** OpenAI's error object: `type` by status, `code` our error code, `param` the field at fault. */
export interface OpenAiErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string;
    /** ours, on 500s only: the id of the log line with the details */
    error_id?: string;
  };
}

/** OpenAI's error `type` for an HTTP status. */
export function openAiErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** Our error body → OpenAI's, same status; the code stays ours (the README's table). */
export function toOpenAiError(status: number, body: ErrorBody): OpenAiErrorBody {
  const { code, message, field, error_id } = body.error;
  return { error: { message, type: openAiErrorType(status), param: field ?? null, code, ...(error_id ? { error_id } : {}) } };
}

/** An OpenAI-shaped error for a code, at the code's status. */
export function openAiError(code: ErrorCode, message: string, field?: string): { status: number; body: OpenAiErrorBody } {
  const status = ERROR_HTTP_STATUS[code];
  return { status, body: toOpenAiError(status, { error: { code, message, ...(field ? { field } : {}) } }) };
}

/** OpenAI's routes: /v1 and everything under it (their errors take OpenAI's shape). */
export function isOpenAiPath(path: string): boolean {
  return path === '/v1' || path.startsWith('/v1/');
}
