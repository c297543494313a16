import { ErrorCode, ServiceError } from './errors';
import { CUSTOM_MODEL_NAME_PATTERN, isEnglishOnlyModelName } from './models';
import { RESPONSE_FORMATS } from './formats/writers';
import { CALLBACK_URL_MAX_LENGTH, CALLBACK_URL_PATTERN, WEBHOOK_SECRET_EXPECTED, WEBHOOK_SECRET_PATTERN } from './webhooks';
import { AUDIO_URL_MAX_LENGTH, AUDIO_URL_PATTERN } from './audio-url';
import { OptionDescription, optionKind, OptionSource, OptionSpec, OptionValueTypes } from './option-types';

/** What whisper decodes to: the spoken language's text, or an English translation (whisper.cpp's translate flag). */
export const TRANSCRIBE_TASKS = ['transcribe', 'translate'] as const;
export type TranscribeTask = (typeof TRANSCRIBE_TASKS)[number];

/** The 400 for task=translate on an English-only model (the API by the model's name, the worker by the loaded model). */
export const TRANSLATE_NEEDS_MULTILINGUAL = 'task=translate needs a multilingual model (English-only .en models cannot translate)';

/** whisper-cli's default schedule: temperature 0, then +0.2 up to 1 on a failed window. */
export const DEFAULT_TEMPERATURES: readonly number[] = [0, 0.2, 0.4, 0.6, 0.8, 1];

/** Silero's rule for the silence threshold when only the speech threshold is given (get_speech_timestamps). */
export function defaultVadOffset(onset: number): number {
  return Math.max(onset - 0.15, 0.01);
}

/** whisper.cpp keeps at most half its text context (224 tokens) of a prompt; this bounds what a form may carry. */
export const INITIAL_PROMPT_MAX_CHARS = 2000;
// no control characters except tab, LF and CR; the length counts UTF-16 units, as String.length
const INITIAL_PROMPT_PATTERN = new RegExp(`^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]{1,${INITIAL_PROMPT_MAX_CHARS}}$`);

/**
 * Every option of POST /transcribe, once: wire name, internal name, type, default, range and doc.
 * The API's form validation, the worker's re-check of job data, TranscribeOptions' type and the
 * docs (describeOptions) all come from this table; nothing else repeats a limit or a default.
 * Order matters: when several fields are wrong, the first one listed here is reported.
 */
export const TRANSCRIBE_OPTIONS = [
  {
    name: 'batch_size', key: 'batchSize', scope: 'job', type: 'int', min: 1, max: 64, default: 16,
    doc: 'how many VAD chunks are decoded at once (separate whisper states on one loaded model)',
  },
  {
    name: 'diarize', key: 'diarize', scope: 'job', type: 'bool', default: false,
    doc: 'speaker diarization: speaker on segments and words, speakers, diarization.turns',
  },
  {
    name: 'align_words', key: 'alignWords', scope: 'job', type: 'bool', default: false,
    doc: 'word start/end/score by wav2vec2 CTC forced alignment',
  },
  {
    name: 'whisper_model', key: 'whisperModel', scope: 'job', type: 'string', pattern: CUSTOM_MODEL_NAME_PATTERN,
    expected: 'one model name such as "small" or the <name> of a custom ggml-<name>.bin',
    unset: "the worker's WHISPER_MODEL",
    doc: 'an official model (tiny … large-v3-turbo, .en variants) or a custom <name> with ggml-<name>.bin in a worker\'s MODEL_DIR',
  },
  {
    name: 'min_speakers', key: 'minSpeakers', scope: 'job', type: 'int', min: 1, max: 100, unset: 'no lower bound',
    doc: 'diarization: at least this many speakers (≤ max_speakers; equal → exactly that many)',
  },
  {
    name: 'max_speakers', key: 'maxSpeakers', scope: 'job', type: 'int', min: 1, max: 100, unset: 'no upper bound',
    doc: 'diarization: at most this many speakers',
  },
  {
    name: 'allowed_languages', key: 'allowedLanguages', scope: 'job', type: 'language_list', unset: 'any language',
    doc: "comma-separated ISO-639-1 codes: argmax of whisper's language probabilities over these; one code = forced",
  },
  {
    name: 'initial_prompt', key: 'initialPrompt', scope: 'job', type: 'string', pattern: INITIAL_PROMPT_PATTERN,
    expected: `text of at most ${INITIAL_PROMPT_MAX_CHARS} characters without control characters (newlines and tabs allowed)`,
    unset: 'no prompt',
    doc: "whisper's initial prompt: text that conditions the decoder (spellings, names, style), as OpenAI's `prompt`; given to every chunk",
  },
  {
    name: 'task', key: 'task', scope: 'job', type: 'enum', values: TRANSCRIBE_TASKS, default: 'transcribe',
    doc: "transcribe: text in the spoken language; translate: whisper's translation to English (needs a multilingual model, not a .en one)",
  },
  {
    name: 'language', key: 'language', scope: 'job', type: 'language', unset: 'allowed_languages, else detected',
    doc: 'one ISO-639-1 code: decode in this language, no detection (the same as allowed_languages with one code; with both, it must be among them)',
  },
  {
    name: 'temperature', key: 'temperature', scope: 'job', type: 'temperature', maxSteps: 11, default: DEFAULT_TEMPERATURES,
    doc:
      'sampling temperature 0..1: one value (no fallback; 0 = greedy/beam, > 0 samples best_of candidates) or an evenly spaced ' +
      'ladder up to 1 such as 0,0.2,0.4,0.6,0.8,1: the next temperature is tried when a window fails whisper\'s checks ' +
      '(compression, avg logprob < -1). Default: whisper-cli\'s 0 with step 0.2. At 0.5 and above whisper.cpp gives no prompt',
  },
  {
    name: 'beam_size', key: 'beamSize', scope: 'job', type: 'int', min: 1, max: 8, default: 5,
    doc: 'beam search width at temperature 0; 1 = greedy decoding (whisper-cli\'s default 5)',
  },
  {
    name: 'best_of', key: 'bestOf', scope: 'job', type: 'int', min: 1, max: 8, default: 5,
    doc: 'candidates sampled per window at a temperature > 0 (the best by log-probability wins); no effect at temperature 0',
  },
  {
    name: 'no_speech_threshold', key: 'noSpeechThreshold', scope: 'job', type: 'number', min: 0, max: 1, default: 0.6,
    doc:
      "whisper.cpp's no_speech_thold: a window whose no-speech probability is above this and whose avg logprob is below -1 " +
      'is taken as silence: no segments, and no retry at the next temperature',
  },
  {
    name: 'condition_on_previous_text', key: 'conditionOnPreviousText', scope: 'job', type: 'bool', default: true,
    doc:
      "true: each 30 s window of a decoding pass is prompted with the previous window's text (whisper.cpp's behaviour); " +
      'false: only with initial_prompt. Each VAD chunk is a pass of its own (never prompted with another chunk\'s text), ' +
      'so this matters with vad=false and when whisper needs more than one window for a chunk',
  },
  {
    name: 'vad_onset', key: 'vadOnset', scope: 'job', type: 'number', min: 0, max: 1, default: 0.5,
    doc: 'Silero VAD: a frame with speech probability ≥ this starts speech',
  },
  {
    name: 'vad_offset', key: 'vadOffset', scope: 'job', type: 'number', min: 0, max: 1, unset: 'vad_onset − 0.15 (at least 0.01), as Silero',
    doc: 'Silero VAD: in speech, frames below this count as silence (hysteresis; must be below vad_onset)',
  },
  {
    name: 'chunk_size', key: 'chunkSize', scope: 'job', type: 'int', min: 1, max: 30, default: 30,
    doc: 'seconds: VAD speech is cut and merged into chunks of at most this length, each decoded on its own (in parallel with batch_size)',
  },
  {
    name: 'async', key: 'async', scope: 'request', type: 'bool', default: false,
    doc: 'true → 202 with the job id right away; false waits up to SYNC_TIMEOUT_S for the transcript',
  },
  {
    name: 'vad', key: 'vad', scope: 'job', type: 'bool', default: true,
    doc: 'Silero VAD cut & merge before whisper; false decodes the whole file in one pass',
  },
  {
    name: 'response_format', key: 'responseFormat', scope: 'request', type: 'enum', values: RESPONSE_FORMATS, default: 'json',
    doc: 'the 200 body: json (result + text), text, srt, vtt, tsv or verbose_json (OpenAI\'s shape); a 202 stays JSON',
  },
  {
    name: 'max_line_width', key: 'maxLineWidth', scope: 'request', type: 'int', min: 1, max: 1000, unset: 'one line per cue',
    doc: 'srt/vtt: characters per line; lines break between words, a longer single word stays whole on its own line',
  },
  {
    name: 'max_line_count', key: 'maxLineCount', scope: 'request', type: 'int', min: 1, max: 100, unset: 'one cue per segment',
    doc: 'srt/vtt: lines per cue (with max_line_width or max_words_per_line); longer stretches become several cues',
  },
  {
    name: 'max_words_per_line', key: 'maxWordsPerLine', scope: 'request', type: 'int', min: 1, max: 1000, unset: 'no limit',
    doc: 'srt/vtt: words per line',
  },
  {
    name: 'highlight_words', key: 'highlightWords', scope: 'request', type: 'bool', default: false,
    doc: 'srt/vtt: karaoke style, one cue per word time with the spoken word underlined (<u>word</u>)',
  },
  {
    name: 'callback_url', key: 'callbackUrl', scope: 'job', type: 'string', pattern: CALLBACK_URL_PATTERN,
    expected: `an http(s) URL of at most ${CALLBACK_URL_MAX_LENGTH} characters`, unset: 'no webhook',
    doc:
      'webhook: when the job completes, fails or is cancelled, a signed POST (Standard Webhooks) with the job view goes here, ' +
      'retried with backoff until a 2xx; private, loopback and link-local hosts are refused unless in OUTBOUND_ALLOWED_HOSTS',
  },
  {
    name: 'callback_secret', key: 'callbackSecret', scope: 'job', type: 'string', pattern: WEBHOOK_SECRET_PATTERN,
    expected: WEBHOOK_SECRET_EXPECTED, unset: 'WEBHOOK_SECRET',
    doc: 'the secret callback_url deliveries are signed with (whsec_<base64>, as Standard Webhooks); kept in Redis until the delivery ends',
  },
  {
    name: 'audio_url', key: 'audioUrl', scope: 'job', type: 'string', pattern: AUDIO_URL_PATTERN,
    expected: `an http(s) URL of at most ${AUDIO_URL_MAX_LENGTH} characters`, unset: 'the uploaded file',
    doc:
      'instead of file (exactly one of the two): the worker downloads the audio from this URL as a stream, at most MAX_UPLOAD_MB, ' +
      'within AUDIO_URL_TIMEOUT_S, up to 5 redirects; private, loopback, link-local and metadata hosts are refused (at submission, ' +
      'and again for each redirect at download) unless in OUTBOUND_ALLOWED_HOSTS',
  },
] as const satisfies readonly OptionSpec[];

type Spec = (typeof TRANSCRIBE_OPTIONS)[number];
type ValueOf<S extends Spec> = S extends { type: 'enum'; values: readonly (infer V)[] } ? V : OptionValueTypes[S['type']];
type Flatten<T> = { [K in keyof T]: T[K] };
/** Options with a default are always set once parsed; the others are optional. */
type OptionsOf<S extends Spec> = Flatten<
  { -readonly [P in S as P extends { default: unknown } ? P['key'] : never]: ValueOf<P> } & {
    -readonly [P in S as P extends { default: unknown } ? never : P['key']]?: ValueOf<P>;
  }
>;

/** What a transcription job is asked to do: the `job` options, validated by the API and again by the worker. */
export type TranscribeOptions = OptionsOf<Extract<Spec, { scope: 'job' }>>;
/** Options the API reads itself (how to answer), never sent to the worker. */
export type TranscribeRequestOptions = OptionsOf<Extract<Spec, { scope: 'request' }>>;
/** The fields a client set, each valid on its own: no defaults yet, cross-field rules not checked. */
export type TranscribeFormFields = Partial<TranscribeOptions & TranscribeRequestOptions>;

const BY_NAME = new Map<string, Spec>(TRANSCRIBE_OPTIONS.map((spec) => [spec.name, spec]));

function invalid(field: string, message: string): never {
  throw new ServiceError(ErrorCode.ValidationFailed, message, field);
}

/** Rules between options, checked once every option is valid on its own (API and worker alike). */
const CROSS_FIELD_RULES: readonly { field: Spec['name']; message: string; broken(options: TranscribeOptions): boolean }[] = [
  {
    field: 'min_speakers',
    message: 'min_speakers must not exceed max_speakers',
    broken: ({ minSpeakers, maxSpeakers }) => minSpeakers !== undefined && maxSpeakers !== undefined && minSpeakers > maxSpeakers,
  },
  {
    // an official .en name is English-only by its name; other models are checked by the worker once loaded
    field: 'task',
    message: TRANSLATE_NEEDS_MULTILINGUAL,
    broken: ({ task, whisperModel }) => task === 'translate' && whisperModel !== undefined && isEnglishOnlyModelName(whisperModel),
  },
  {
    field: 'language',
    message: 'language must be one of allowed_languages (or give only one of the two)',
    broken: ({ language, allowedLanguages }) => language !== undefined && allowedLanguages !== undefined && !allowedLanguages.includes(language),
  },
  {
    field: 'language',
    message: 'the English-only model (.en) decodes English only: language may only be "en"',
    broken: ({ language, whisperModel }) => language !== undefined && language !== 'en' && whisperModel !== undefined && isEnglishOnlyModelName(whisperModel),
  },
  {
    field: 'vad_offset',
    message: 'vad_offset must be below vad_onset (without vad_offset, vad_onset − 0.15 and at least 0.01 is used: vad_onset must then be above 0.01)',
    broken: ({ vadOnset, vadOffset }) => (vadOffset ?? defaultVadOffset(vadOnset)) >= vadOnset,
  },
];

export function checkCrossFieldRules(options: TranscribeOptions): void {
  for (const rule of CROSS_FIELD_RULES) if (rule.broken(options)) invalid(rule.field, rule.message);
}

/** The client's message for a field no option has. */
export const unknownFieldMessage = (name: string): string => `unknown field "${name}"`;

/**
 * Multipart fields (strings, as multer hands them over) → typed values, each checked on its own.
 * Unknown fields are reported first, then the options in table order; the first problem throws a
 * validation_failed ServiceError naming the field.
 */
export function readTranscribeForm(fields: Record<string, unknown>): TranscribeFormFields {
  for (const name of Object.keys(fields)) if (!BY_NAME.has(name)) invalid(name, unknownFieldMessage(name));
  const read: Record<string, unknown> = {};
  for (const spec of TRANSCRIBE_OPTIONS) {
    const value = optionKind<OptionSpec>(spec).fromForm(Object.hasOwn(fields, spec.name) ? fields[spec.name] : undefined);
    if (value === undefined) continue;
    const problem = optionKind<OptionSpec>(spec).problem(spec, value, 'form');
    if (problem) invalid(spec.name, problem);
    read[spec.key] = value;
  }
  return read as TranscribeFormFields;
}

/** Each option's value, or its default when it is not set (the one place defaults are applied). */
function withDefaults(values: Record<string, unknown>, specs: readonly Spec[], source: OptionSource): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    const value = values[spec.key];
    if (value === undefined) {
      if ('default' in spec) out[spec.key] = spec.default;
      continue;
    }
    // form values were checked by readTranscribeForm already; job data is checked here
    if (source === 'job') {
      const problem = optionKind<OptionSpec>(spec).problem(spec, value, 'job');
      if (problem) invalid(spec.name, problem);
    }
    out[spec.key] = value;
  }
  return out;
}

const JOB_OPTIONS: readonly Spec[] = TRANSCRIBE_OPTIONS.filter((spec) => spec.scope === 'job');
const REQUEST_OPTIONS: readonly Spec[] = TRANSCRIBE_OPTIONS.filter((spec) => spec.scope === 'request');

/** The API's step after readTranscribeForm: defaults applied, cross-field rules checked, split into the job's options and the API's own. */
export function resolveTranscribeForm(fields: TranscribeFormFields): { options: TranscribeOptions; request: TranscribeRequestOptions } {
  const options = withDefaults(fields, JOB_OPTIONS, 'form') as TranscribeOptions;
  checkCrossFieldRules(options);
  return { options, request: withDefaults(fields, REQUEST_OPTIONS, 'form') as TranscribeRequestOptions };
}

/**
 * The worker's check of the options in a job read back from Redis (typed values, no coercion). An
 * option the job lacks takes its default: jobs queued before the option existed still run. Keys no
 * option has are ignored.
 */
export function checkTranscribeOptions(options: Record<string, unknown>): TranscribeOptions {
  const checked = withDefaults(options, JOB_OPTIONS, 'job') as TranscribeOptions;
  checkCrossFieldRules(checked);
  return checked;
}

/** The whisper_full_params whisper.cpp was given, as the addon read them back from the struct. */
export interface WhisperUsedParams {
  translate: boolean;
  strategy: 'greedy' | 'beam_search';
  beam_size: number;
  best_of: number;
  temperature: number;
  temperature_inc: number;
  no_speech_thold: number;
  no_context: boolean;
  carry_initial_prompt: boolean;
  n_max_text_ctx: number;
  /** the initial prompt's length in tokens (0: none) */
  n_prompt_tokens: number;
  language: string;
}

/**
 * What a transcription was decoded with (TranscriptionResult.decoding): the job's decoding and VAD
 * options as they took effect, and the whisper_full_params whisper.cpp was given.
 */
export interface DecodingReport {
  task: TranscribeTask;
  /** the language decoded in (forced or detected) */
  language: string;
  /** the temperatures whisper.cpp may try, in order ([t] = no fallback) */
  temperature: number[];
  beam_size: number;
  best_of: number;
  no_speech_threshold: number;
  condition_on_previous_text: boolean;
  /** VAD cut & merge (absent with vad=false) */
  vad?: { onset: number; offset: number; chunk_size: number; chunks: { start: number; end: number }[] };
  /** read back from the whisper_full_params of the first decoding call (absent when whisper never ran: silence) */
  whisper_params?: WhisperUsedParams;
}

/** The options that say how a finished transcript is written (POST /transcribe's fields, GET /jobs/:id/result's query). */
export const FORMAT_OPTION_NAMES = ['response_format', 'max_line_width', 'max_line_count', 'max_words_per_line', 'highlight_words'] as const;
export type FormatOptionName = (typeof FORMAT_OPTION_NAMES)[number];
type FormatKey = Extract<Spec, { name: FormatOptionName }>['key'];
/** How to write a transcript: a format and the subtitle shaping, defaults applied. */
export type FormatOptions = Pick<TranscribeRequestOptions, FormatKey>;

/** GET /jobs/:id/result takes the format as `format` (or `response_format`, as the form calls it). */
const QUERY_ALIASES: Readonly<Record<string, FormatOptionName>> = { format: 'response_format' };

/**
 * A query string (Express: strings, arrays for repeated names) → FormatOptions, with the same
 * parsers, ranges and messages as the form; unknown parameters are a validation_failed error.
 */
export function readFormatQuery(query: Record<string, unknown>): FormatOptions {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(query)) {
    const option = QUERY_ALIASES[name] ?? name;
    if (!(FORMAT_OPTION_NAMES as readonly string[]).includes(option)) invalid(name, `unknown query parameter "${name}"`);
    if (Object.hasOwn(fields, option)) invalid(name, 'give format or response_format, not both');
    fields[option] = value;
  }
  const specs = TRANSCRIBE_OPTIONS.filter((spec) => (FORMAT_OPTION_NAMES as readonly string[]).includes(spec.name));
  const read: Record<string, unknown> = {};
  for (const spec of specs) {
    const value = optionKind<OptionSpec>(spec).fromForm(fields[spec.name]);
    if (value === undefined) continue;
    const problem = optionKind<OptionSpec>(spec).problem(spec, value, 'form');
    if (problem) invalid(QUERY_ALIASES.format === spec.name && Object.hasOwn(query, 'format') ? 'format' : spec.name, problem);
    read[spec.key] = value;
  }
  return withDefaults(read, specs, 'form') as FormatOptions;
}

/** The table as readers see it (JSON-safe): the README's option table and the OpenAPI schema come from here. */
export function describeOptions(): OptionDescription[] {
  return TRANSCRIBE_OPTIONS.map((spec) => {
    const { name, key, scope, type, doc } = spec;
    return {
      name,
      key,
      scope,
      type,
      doc,
      ...('default' in spec ? { default: spec.default } : {}),
      ...('unset' in spec ? { unset: spec.unset } : {}),
      ...optionKind<OptionSpec>(spec).describe(spec),
    };
  });
}
