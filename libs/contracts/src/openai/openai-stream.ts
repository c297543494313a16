import type { ErrorCode } from '../errors';
import { normalizeSpace } from '../formats/cues';
import type { SegmentEvent } from '../job-events';
import { openAiError, OpenAiErrorBody } from './openai-responses';

/**
 * POST /v1/audio/transcriptions with stream=true: OpenAI's streaming transcription events as
 * Server-Sent Events, built from the job's segment events. Pure: the /v1 controller writes what
 * these return.
 */

/** OpenAI's TranscriptionTextDeltaEvent (the SDK's TranscriptionStreamEvent union). */
export interface OpenAiTranscriptDelta {
  type: 'transcript.text.delta';
  delta: string;
}

/** OpenAI's TranscriptionTextDoneEvent: the whole text, the deltas' concatenation. */
export interface OpenAiTranscriptDone {
  type: 'transcript.text.done';
  text: string;
}

/** An error after the 200 and its headers went out: OpenAI's error object (the SDK throws an APIError on `error`). */
export interface OpenAiStreamError extends OpenAiErrorBody {
  type: 'error';
}

export type OpenAiStreamEvent = OpenAiTranscriptDelta | OpenAiTranscriptDone | OpenAiStreamError;

/** One SSE message. No `event:` name: EventSource's default `message` handler and the SDK read them all. */
export function sseMessage(event: OpenAiStreamEvent): string {
  return `data: ${JSON.stringify(event)}\n\n`;
}

/** An SSE comment: keeps proxies from closing an idle stream; clients ignore it. */
export const SSE_KEEPALIVE = ': keep-alive\n\n';

export function openAiStreamError(code: ErrorCode, message: string, field?: string): OpenAiStreamError {
  return { type: 'error', ...openAiError(code, message, field).body };
}

/**
 * The text deltas of one job, in segment order. Segments join with one space as the result's
 * `text` does (transcriptText), so the deltas' concatenation is the final text. A segment index
 * seen before is skipped: a job retried after its worker died publishes its segments again.
 */
export class TranscriptDeltas {
  private next = 0;
  private sent = '';

  /** The delta for a segment event, or undefined (repeat, or no text). */
  push(segment: Pick<SegmentEvent, 'index' | 'text'>): OpenAiTranscriptDelta | undefined {
    if (segment.index < this.next) return undefined;
    this.next = segment.index + 1;
    const text = normalizeSpace(segment.text ?? '');
    if (text === '') return undefined;
    const delta = this.sent === '' ? text : ` ${text}`;
    this.sent += delta;
    return { type: 'transcript.text.delta', delta };
  }

  /**
   * The last events for the job's final text: a delta with what the segments did not carry (none
   * when they carried it all, the usual case), then done. `consistent` is false when the text sent
   * so far is not a prefix of the final text (a retried job that decoded differently): the done
   * text is the final one still, and the caller logs it.
   */
  finish(text: string): { events: OpenAiStreamEvent[]; consistent: boolean } {
    const consistent = text.startsWith(this.sent);
    const rest = consistent ? text.slice(this.sent.length) : '';
    const events: OpenAiStreamEvent[] = rest ? [{ type: 'transcript.text.delta', delta: rest }] : [];
    if (rest) this.sent += rest;
    events.push({ type: 'transcript.text.done', text });
    return { events, consistent };
  }

  /** The text sent in deltas so far. */
  get text(): string {
    return this.sent;
  }
}
