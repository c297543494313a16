import { ErrorCode, ServiceError } from '../errors';
import { readTranscribeForm, TranscribeFormFields, unknownFieldMessage } from '../transcribe-options';

/**
 * POST /v1/audio/transcriptions' multipart form (OpenAI's fields) → our option table's fields plus
 * what only the OpenAI route reads. No I/O: the API's /v1 controller calls this, tests call it
 * directly. Every problem is a validation_failed ServiceError naming the field as the client sent it.
 */

/** OpenAI's model name for the one speech model it has: the worker's default model here. */
export const OPENAI_DEFAULT_MODEL = 'whisper-1';

export const OPENAI_RESPONSE_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt', 'diarized_json'] as const;
export type OpenAiResponseFormat = (typeof OPENAI_RESPONSE_FORMATS)[number];

export const OPENAI_TIMESTAMP_GRANULARITIES = ['word', 'segment'] as const;
export type OpenAiTimestampGranularity = (typeof OPENAI_TIMESTAMP_GRANULARITIES)[number];

/** What the /v1 route reads itself (how to answer), besides the job's options. */
export interface OpenAiAnswerOptions {
  responseFormat: OpenAiResponseFormat;
  /**
   * OpenAI's temperature (0..1), reported in verbose_json segments. 0 (the default) means what it
   * means at OpenAI, "raise the temperature when a window fails the log-probability checks": the
   * job's default ladder 0, 0.2, …, 1; above 0 the job decodes at that one temperature (no fallback).
   */
  temperature: number;
  timestampGranularities: OpenAiTimestampGranularity[];
  /** stream=true: Server-Sent Events (transcript.text.delta … transcript.text.done) instead of one body; json or text only */
  stream: boolean;
  /** which route: transcriptions, or translations (to English; verbose_json says `task: "translate"`) */
  task: 'transcribe' | 'translate';
}

/** response_format values that stream=true may come with: the text-only ones (OpenAI streams text deltas, no timestamps). */
export const OPENAI_STREAM_FORMATS: readonly OpenAiResponseFormat[] = ['json', 'text'];
/** POST /v1/audio/translations' response_format values (no diarized_json: OpenAI's translations have none). */
export const OPENAI_TRANSLATION_FORMATS: readonly OpenAiResponseFormat[] = ['json', 'text', 'srt', 'verbose_json', 'vtt'];

export interface OpenAiTranscriptionForm {
  /** the option table's fields, as readTranscribeForm returns them (defaults not applied yet) */
  fields: TranscribeFormFields;
  answer: OpenAiAnswerOptions;
  /** our option name → the OpenAI field it came from (whisper_model → model, …), for errors raised later */
  sentAs: Readonly<Record<string, string>>;
}

/** OpenAI's field → the option it fills in our table (an error on ours is reported under OpenAI's name). */
const MAPPED_FIELDS = { model: 'whisper_model', language: 'allowed_languages', prompt: 'initial_prompt' } as const;

/**
 * Our options a /v1 client may add as extra form fields (the SDKs pass them through `extra_body` /
 * extra form fields). whisper_model, initial_prompt and response_format have OpenAI names here
 * (model, prompt, response_format with OpenAI's values); async has no meaning for a synchronous API.
 */
export const OPENAI_EXTRA_FIELDS = [
  'diarize', 'align_words', 'batch_size', 'min_speakers', 'max_speakers', 'vad', 'allowed_languages',
  'max_line_width', 'max_line_count', 'max_words_per_line', 'highlight_words',
  // decoding and VAD (temperature and language are OpenAI's own fields)
  'beam_size', 'best_of', 'no_speech_threshold', 'condition_on_previous_text', 'vad_onset', 'vad_offset', 'chunk_size',
] as const;

/** OpenAI fields accepted and ignored (documented): chunking is always Silero VAD here (vad=false turns it off). */
const IGNORED_FIELDS = ['chunking_strategy'] as const;

/** OpenAI fields this service does not implement: a 400 that says so, rather than a silently different answer. */
const UNSUPPORTED_FIELDS: Readonly<Record<string, string>> = {
  include: 'include (logprobs) is not supported: whisper.cpp token log-probabilities are in verbose_json segments\' avg_logprob',
  known_speaker_names: 'known_speaker_names is not supported: speakers are labelled SPEAKER_00, SPEAKER_01, …',
  known_speaker_references: 'known_speaker_references is not supported: speakers are labelled SPEAKER_00, SPEAKER_01, …',
};

const OPENAI_FIELDS = ['model', 'language', 'prompt', 'response_format', 'temperature', 'timestamp_granularities', 'stream'] as const;

function invalid(field: string, message: string): never {
  throw new ServiceError(ErrorCode.ValidationFailed, message, field);
}

/** One string value of a form field (a repeated name arrives as an array: the last one wins, as with curl -F). */
function single(raw: unknown): unknown {
  return Array.isArray(raw) ? raw[raw.length - 1] : raw;
}

function readResponseFormat(raw: unknown, allowed: readonly OpenAiResponseFormat[]): OpenAiResponseFormat {
  const value = single(raw);
  if (value === undefined) return 'json';
  const format = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (format === '') return 'json';
  if (typeof format === 'string' && (allowed as readonly string[]).includes(format)) return format as OpenAiResponseFormat;
  return invalid('response_format', `response_format must be one of ${allowed.join(', ')}, got ${JSON.stringify(String(value).slice(0, 40))}`);
}

function readTemperature(raw: unknown): number {
  const value = single(raw);
  if (value === undefined || (typeof value === 'string' && value.trim() === '')) return 0;
  const number = typeof value === 'string' ? Number(value.trim()) : NaN;
  if (!Number.isFinite(number) || number < 0 || number > 1) {
    return invalid('temperature', `temperature must be a number between 0 and 1, got ${JSON.stringify(String(value).slice(0, 40))}`);
  }
  return number;
}

/** `timestamp_granularities[]=word` (what the SDKs send; multer reads it as an array) or `timestamp_granularities=word,segment`. */
function readGranularities(raw: unknown): OpenAiTimestampGranularity[] {
  if (raw === undefined) return ['segment'];
  const items = (Array.isArray(raw) ? raw : [raw]).flatMap((item) => (typeof item === 'string' ? item.split(',') : [item]));
  const out = new Set<OpenAiTimestampGranularity>();
  for (const item of items) {
    const value = typeof item === 'string' ? item.trim().toLowerCase() : item;
    if (value === '') continue;
    if (typeof value !== 'string' || !(OPENAI_TIMESTAMP_GRANULARITIES as readonly string[]).includes(value)) {
      invalid('timestamp_granularities', `timestamp_granularities must list word and/or segment, got ${JSON.stringify(String(item).slice(0, 40))}`);
    }
    out.add(value as OpenAiTimestampGranularity);
  }
  return out.size > 0 ? [...out] : ['segment'];
}

function readStream(raw: unknown): boolean {
  const value = single(raw);
  if (value === undefined) return false;
  const normalized = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (normalized === 'false' || normalized === '0' || normalized === '') return false;
  if (normalized === 'true' || normalized === '1') return true;
  return invalid('stream', `stream must be true or false, got ${JSON.stringify(String(value).slice(0, 40))}`);
}

/** A field's error from the option table (or from the job), named as the client sent it (whisper_model → model, …). */
export function asSentFields(error: unknown, sentAs: Readonly<Record<string, string>>): unknown {
  if (!(error instanceof ServiceError) || !error.field || !Object.hasOwn(sentAs, error.field)) return error;
  const name = sentAs[error.field];
  const message = error.message.startsWith(`${error.field} `) ? `${name} ${error.message.slice(error.field.length + 1)}` : error.message;
  return new ServiceError(error.code, message, name, error.errorId);
}

/** The two OpenAI audio routes this service answers; they differ only in which fields they take. */
type OpenAiAudioRoute = 'transcriptions' | 'translations';

/** OpenAI's translation API has none of these: a 400 naming the field rather than a silently different job. */
const NOT_ON_TRANSLATIONS: Readonly<Record<string, string>> = {
  language: 'language is not a field of /v1/audio/translations (OpenAI\'s API has none: the spoken language is detected, the output is always English); to name the spoken language, send allowed_languages',
  timestamp_granularities: 'timestamp_granularities is not a field of /v1/audio/translations (as in OpenAI\'s API): verbose_json has segment times',
  stream: 'stream is not a field of /v1/audio/translations (as in OpenAI\'s API): only transcriptions stream',
};

/**
 * Reads OpenAI's transcription form: model (whisper-1 → the worker's default; our model names as
 * they are), language (one code → forced), prompt (→ initial_prompt), response_format,
 * temperature, timestamp_granularities, stream; our extras (OPENAI_EXTRA_FIELDS) as on
 * POST /transcribe. Unknown fields are a 400 naming them.
 */
export function readOpenAiTranscriptionForm(body: Record<string, unknown>): OpenAiTranscriptionForm {
  return readOpenAiAudioForm(body, 'transcriptions');
}

/**
 * Reads OpenAI's translation form (POST /v1/audio/translations: speech in any language → English
 * text): file, model, prompt, response_format (json, text, srt, verbose_json, vtt), temperature,
 * and our extras; the job runs with task=translate. language, timestamp_granularities and stream
 * are not OpenAI translation fields: 400 naming them.
 */
export function readOpenAiTranslationForm(body: Record<string, unknown>): OpenAiTranscriptionForm {
  return readOpenAiAudioForm(body, 'translations');
}

function readOpenAiAudioForm(body: Record<string, unknown>, route: OpenAiAudioRoute): OpenAiTranscriptionForm {
  const extras: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    if (route === 'translations' && Object.hasOwn(NOT_ON_TRANSLATIONS, name)) invalid(name, NOT_ON_TRANSLATIONS[name]);
    if ((OPENAI_FIELDS as readonly string[]).includes(name) || (IGNORED_FIELDS as readonly string[]).includes(name)) continue;
    if (Object.hasOwn(UNSUPPORTED_FIELDS, name)) invalid(name, UNSUPPORTED_FIELDS[name]);
    if (!(OPENAI_EXTRA_FIELDS as readonly string[]).includes(name)) {
      const openAiName = Object.entries(MAPPED_FIELDS).find(([, ours]) => ours === name)?.[0];
      invalid(name, openAiName ? `${unknownFieldMessage(name)}: on /v1 it is "${openAiName}"` : unknownFieldMessage(name));
    }
    extras[name] = value;
  }
  const task = route === 'translations' ? 'translate' : 'transcribe';
  const answer: OpenAiAnswerOptions = {
    responseFormat: readResponseFormat(body.response_format, route === 'translations' ? OPENAI_TRANSLATION_FORMATS : OPENAI_RESPONSE_FORMATS),
    temperature: readTemperature(body.temperature),
    timestampGranularities: readGranularities(body.timestamp_granularities),
    stream: readStream(body.stream),
    task,
  };
  if (answer.stream && !OPENAI_STREAM_FORMATS.includes(answer.responseFormat)) {
    invalid('response_format', `stream=true streams text only: response_format must be ${OPENAI_STREAM_FORMATS.join(' or ')} (got ${answer.responseFormat}); leave stream out for ${answer.responseFormat}`);
  }
  const mapped: Record<string, unknown> = { ...extras };
  const sentAs: Record<string, string> = {};
  const model = single(body.model);
  if (model !== undefined && !(typeof model === 'string' && (model.trim() === '' || model.trim() === OPENAI_DEFAULT_MODEL))) {
    mapped.whisper_model = model;
    sentAs.whisper_model = 'model';
  }
  const language = single(body.language);
  if (language !== undefined && !(typeof language === 'string' && language.trim() === '')) {
    if (Object.hasOwn(extras, 'allowed_languages')) invalid('language', 'give language (one code) or allowed_languages (a list), not both');
    if (typeof language !== 'string' || language.includes(',')) invalid('language', `language must be one ISO-639-1 code such as "en", got ${JSON.stringify(String(language).slice(0, 40))}`);
    mapped.allowed_languages = language;
    sentAs.allowed_languages = 'language';
  }
  const prompt = single(body.prompt);
  if (prompt !== undefined) {
    mapped.initial_prompt = prompt;
    sentAs.initial_prompt = 'prompt';
  }
  // 0 is OpenAI's "automatic" temperature: the job's default fallback ladder
  if (answer.temperature > 0) mapped.temperature = String(answer.temperature);
  if (task === 'translate') {
    mapped.task = task;
    // the route chose the task: a .en model's refusal names the model the client sent
    sentAs.task = 'model';
  }
  if (answer.responseFormat === 'diarized_json') {
    // OpenAI's diarized_json comes from a diarizing model: here it turns diarization on
    const diarize = single(extras.diarize);
    if (diarize === undefined) mapped.diarize = 'true';
  }
  let fields: TranscribeFormFields;
  try {
    fields = readTranscribeForm(mapped);
  } catch (error) {
    throw asSentFields(error, sentAs);
  }
  if (answer.responseFormat === 'diarized_json' && fields.diarize === false) {
    invalid('response_format', 'response_format=diarized_json needs diarization: leave diarize out or set it to true');
  }
  return { fields, answer, sentAs };
}
