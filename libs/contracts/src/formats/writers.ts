import { deflateSync } from 'node:zlib';
import type { TranscriptionResult } from '../jobs';
import { round3 } from '../precision';
import { buildCues, Cue, displayWidth, normalizeSpace, speakerRuns, SubtitleShaping } from './cues';
import { languageName } from './language-names';
import { formatTimestamp, toMilliseconds } from './timestamps';

/**
 * Pure writers: one TranscriptionResult → each output format. No I/O, no HTTP: the API's routes
 * (POST /transcribe, GET /jobs/:id/result and the OpenAI-compatible ones) pick a writer and set
 * the headers from FORMAT_MEDIA.
 */

export const RESPONSE_FORMATS = ['json', 'text', 'srt', 'vtt', 'tsv', 'verbose_json'] as const;
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

/** Content-Type and file extension of each format. */
export const FORMAT_MEDIA: Readonly<Record<ResponseFormat, { contentType: string; extension: string }>> = {
  json: { contentType: 'application/json; charset=utf-8', extension: 'json' },
  verbose_json: { contentType: 'application/json; charset=utf-8', extension: 'json' },
  text: { contentType: 'text/plain; charset=utf-8', extension: 'txt' },
  srt: { contentType: 'application/x-subrip; charset=utf-8', extension: 'srt' },
  vtt: { contentType: 'text/vtt; charset=utf-8', extension: 'vtt' },
  tsv: { contentType: 'text/tab-separated-values; charset=utf-8', extension: 'tsv' },
};

/** The transcript as one string: the segments' text, whitespace collapsed, joined by single spaces. */
export function transcriptText(result: TranscriptionResult): string {
  return (result.segments ?? []).map((segment) => normalizeSpace(segment.text ?? '')).filter(Boolean).join(' ');
}

/** `json`: the result as stored, plus a top-level `text`. */
export function writeJson(result: TranscriptionResult): TranscriptionResult & { text: string } {
  return { ...result, text: transcriptText(result) };
}

/** The speaker label that prefixes a line in srt, text and tsv. */
export const speakerLabel = (speaker: string): string => `[${speaker}]`;
const labelled = (text: string, speaker: string | undefined) => (speaker !== undefined ? `${speakerLabel(speaker)} ${text}` : text);

/** `text`: one line per segment (per speaker turn when diarized, prefixed `[SPEAKER_00]`), as whisper's .txt. */
export function writeText(result: TranscriptionResult): string {
  return speakerRuns(result).map((run) => `${labelled(run.text, run.speaker)}\n`).join('');
}

/** `tsv`: whisper's .tsv: a `start\tend\ttext` header, times in whole milliseconds, one row per segment (per speaker turn). */
export function writeTsv(result: TranscriptionResult): string {
  const rows = speakerRuns(result).map((run) => `${toMilliseconds(run.start)}\t${toMilliseconds(run.end)}\t${labelled(run.text, run.speaker)}\n`);
  return `start\tend\ttext\n${rows.join('')}`;
}

/** A cue's lines with the highlighted word wrapped in <u>…</u>; `escape` makes each word safe for the format. */
function cueLines(cue: Cue, escape: (text: string) => string): string[] {
  if (cue.highlighted === undefined) return cue.lines.map((line) => escape(line.text));
  let index = 0;
  return cue.lines.map((line) => line.words.map((word) => (index++ === cue.highlighted ? `<u>${escape(word.text)}</u>` : escape(word.text))).join(' '));
}

// "-->" inside a cue's text would read as a timing line
const srtSafe = (text: string) => text.replace(/-->/g, '->');
const vttSafe = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** `srt`: numbered cues, `00:00:01,234 --> 00:00:02,000`, a `[SPEAKER_00] ` prefix on each cue's first line when diarized. */
export function writeSrt(result: TranscriptionResult, shaping: SubtitleShaping = {}): string {
  const cues = buildCues(result, { ...shaping, speakerLabelWidth: (speaker) => displayWidth(speakerLabel(speaker)) });
  return cues
    .map((cue, index) => {
      const lines = cueLines(cue, srtSafe);
      lines[0] = labelled(lines[0], cue.speaker);
      return `${index + 1}\n${formatTimestamp(cue.start, ',')} --> ${formatTimestamp(cue.end, ',')}\n${lines.join('\n')}\n\n`;
    })
    .join('');
}

/** `vtt`: WebVTT cues `00:00:01.234 --> 00:00:02.000`, a voice tag `<v SPEAKER_00>` per cue when diarized. */
export function writeVtt(result: TranscriptionResult, shaping: SubtitleShaping = {}): string {
  const cues = buildCues(result, shaping);
  const body = cues
    .map((cue) => {
      const lines = cueLines(cue, vttSafe);
      if (cue.speaker !== undefined) lines[0] = `<v ${vttSafe(cue.speaker)}>${lines[0]}`;
      return `${formatTimestamp(cue.start, '.')} --> ${formatTimestamp(cue.end, '.')}\n${lines.join('\n')}\n\n`;
    })
    .join('');
  return `WEBVTT\n\n${body}`;
}

/** One segment of OpenAI's verbose_json. */
export interface VerboseSegment {
  id: number;
  seek: number;
  start: number;
  end: number;
  text: string;
  tokens: number[];
  temperature: number;
  avg_logprob: number;
  compression_ratio: number;
  no_speech_prob: number;
  /** ours: the segment's speaker when diarized (OpenAI's clients ignore unknown fields) */
  speaker?: string;
}

/** OpenAI's verbose_json transcription object. */
export interface VerboseJson {
  task: 'transcribe' | 'translate';
  language: string;
  duration: number;
  text: string;
  segments: VerboseSegment[];
  words?: { word: string; start: number; end: number }[];
}

export interface VerboseJsonOptions {
  /** include `words` (OpenAI: only with timestamp_granularities[]=word) */
  words?: boolean;
  task?: 'transcribe' | 'translate';
}

/** gzip's measure of repetition, as whisper reports it: text bytes / zlib-compressed bytes. */
export function compressionRatio(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length === 0 ? 0 : round3(bytes.length / deflateSync(bytes).length);
}

/**
 * `verbose_json` in OpenAI's shape: language as a name ("english"), segments with seek (in 10 ms
 * frames), tokens (empty: whisper.cpp token ids are not kept), temperature 0 (greedy decoding) and
 * compression_ratio computed from the text.
 */
export function writeVerboseJson(result: TranscriptionResult, options: VerboseJsonOptions = {}): VerboseJson {
  const finite = (n: number) => typeof n === 'number' && Number.isFinite(n);
  return {
    // the route's own task (translations) first, else what the job was decoded with
    task: options.task ?? result.decoding?.task ?? 'transcribe',
    language: languageName(result.language),
    duration: result.duration,
    text: transcriptText(result),
    segments: (result.segments ?? []).map((segment) => ({
      id: segment.id,
      seek: Math.round(segment.start * 100),
      start: segment.start,
      end: segment.end,
      text: segment.text,
      tokens: [],
      temperature: 0,
      avg_logprob: segment.avg_logprob,
      compression_ratio: compressionRatio(segment.text ?? ''),
      no_speech_prob: segment.no_speech_prob,
      ...(segment.speaker !== undefined ? { speaker: segment.speaker } : {}),
    })),
    ...(options.words
      ? { words: (result.word_segments ?? []).filter((w) => finite(w.start) && finite(w.end)).map(({ word, start, end }) => ({ word, start, end })) }
      : {}),
  };
}

export interface RenderOptions extends SubtitleShaping, VerboseJsonOptions {}

/** A rendered transcript: a JSON value (the framework serializes it) or text, with its media type and file extension. */
export type RenderedTranscript =
  | { kind: 'json'; body: object; contentType: string; extension: string }
  | { kind: 'text'; body: string; contentType: string; extension: string };

/** The one switch from a format name to its writer. */
export function renderTranscript(result: TranscriptionResult, format: ResponseFormat, options: RenderOptions = {}): RenderedTranscript {
  const media = FORMAT_MEDIA[format];
  switch (format) {
    case 'json':
      return { kind: 'json', body: writeJson(result), ...media };
    case 'verbose_json':
      return { kind: 'json', body: writeVerboseJson(result, options), ...media };
    case 'text':
      return { kind: 'text', body: writeText(result), ...media };
    case 'tsv':
      return { kind: 'text', body: writeTsv(result), ...media };
    case 'srt':
      return { kind: 'text', body: writeSrt(result, options), ...media };
    case 'vtt':
      return { kind: 'text', body: writeVtt(result, options), ...media };
  }
}
