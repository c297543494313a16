import { ErrorCode, ServiceError } from './errors';
import { languageName } from './formats/language-names';
import { OptionDescription, optionKind, OptionSpec } from './option-types';
import { round3 } from './precision';
import { TRANSCRIBE_OPTIONS, unknownFieldMessage } from './transcribe-options';

/**
 * POST /detect-language: which language the first speech of a file is in, without transcribing it
 * (whisper-asr-webservice's /detect-language). The form shares whisper_model and vad with
 * POST /transcribe (the same rows of the options table) and adds `top`.
 */

const SHARED_FIELDS = ['whisper_model', 'vad', 'audio_url'] as const;
type SharedSpec = Extract<(typeof TRANSCRIBE_OPTIONS)[number], { name: (typeof SHARED_FIELDS)[number] }>;

const TOP_OPTION = {
  name: 'top', key: 'top', scope: 'request', type: 'int', min: 1, max: 100, default: 5,
  doc: 'how many languages the answer lists, most probable first',
} as const satisfies OptionSpec;

/** The form's fields in the order problems are reported. */
export const DETECT_LANGUAGE_OPTIONS: readonly OptionSpec[] = [
  ...TRANSCRIBE_OPTIONS.filter((spec): spec is SharedSpec => (SHARED_FIELDS as readonly string[]).includes(spec.name)),
  TOP_OPTION,
];

/** What the worker is asked: the model and whether VAD finds the first speech. */
export interface DetectLanguageOptions {
  whisperModel?: string;
  vad: boolean;
  /** the audio's URL instead of an upload: the worker downloads it */
  audioUrl?: string;
}

export interface DetectLanguageForm {
  options: DetectLanguageOptions;
  /** how many languages the answer lists */
  top: number;
}

function invalid(field: string, message: string): never {
  throw new ServiceError(ErrorCode.ValidationFailed, message, field);
}

/** Multipart fields → the job's options and the answer's length, with the table's parsers and messages; unknown fields are a 400. */
export function readDetectLanguageForm(fields: Record<string, unknown>): DetectLanguageForm {
  const byName = new Map(DETECT_LANGUAGE_OPTIONS.map((spec) => [spec.name, spec]));
  for (const name of Object.keys(fields)) if (!byName.has(name)) invalid(name, unknownFieldMessage(name));
  const read: Record<string, unknown> = {};
  for (const spec of DETECT_LANGUAGE_OPTIONS) {
    const kind = optionKind<OptionSpec>(spec);
    const value = kind.fromForm(Object.hasOwn(fields, spec.name) ? fields[spec.name] : undefined);
    if (value === undefined) {
      if (spec.default !== undefined) read[spec.key] = spec.default;
      continue;
    }
    const problem = kind.problem(spec, value, 'form');
    if (problem) invalid(spec.name, problem);
    read[spec.key] = value;
  }
  const options: DetectLanguageOptions = { vad: read.vad as boolean };
  if (typeof read.whisperModel === 'string') options.whisperModel = read.whisperModel;
  if (typeof read.audioUrl === 'string') options.audioUrl = read.audioUrl;
  return { options, top: read.top as number };
}

/** The worker's check of a detect-language job's options read back from Redis. */
export function checkDetectLanguageOptions(raw: Record<string, unknown>): DetectLanguageOptions {
  const options: DetectLanguageOptions = { vad: true };
  for (const spec of DETECT_LANGUAGE_OPTIONS) {
    if (spec.scope !== 'job') continue;
    const value = raw[spec.key];
    if (value === undefined) continue;
    const problem = optionKind<OptionSpec>(spec).problem(spec, value, 'job');
    if (problem) invalid(spec.name, problem);
    (options as unknown as Record<string, unknown>)[spec.key] = value;
  }
  return options;
}

/** The form as readers see it (the OpenAPI schema of POST /detect-language). */
export function describeDetectLanguageOptions(): OptionDescription[] {
  return DETECT_LANGUAGE_OPTIONS.map((spec) => ({
    name: spec.name,
    key: spec.key,
    scope: spec.scope,
    type: spec.type,
    doc: spec.doc,
    ...(spec.default !== undefined ? { default: spec.default } : {}),
    ...(spec.unset !== undefined ? { unset: spec.unset } : {}),
    ...optionKind<OptionSpec>(spec).describe(spec),
  }));
}

/** One language and whisper's probability for it. */
export interface LanguageProbability {
  language: string;
  probability: number;
}

/** The worker's answer (the job's return value): every language whisper scored, most probable first. */
export interface LanguageDetectionResult {
  job_id: string;
  model: string;
  /** seconds of audio in the file */
  duration: number;
  /** where the first speech starts (detection reads up to 30 s from there); null: VAD found no speech */
  speech_start: number | null;
  languages: LanguageProbability[];
  timings_ms: Record<string, number>;
}

/** POST /detect-language's 200 body. */
export interface DetectLanguageResponse {
  /** the most probable language (ISO-639-1), null when the file has no speech */
  language: string | null;
  /** its English name as whisper spells it ("english", "german"), null without speech */
  language_name: string | null;
  probability: number;
  /** the `top` most probable languages */
  languages: (LanguageProbability & { name: string })[];
  speech_start: number | null;
  duration: number;
  model: string;
  job_id: string;
}

/** The worker's probabilities → the sorted list a result carries (rounded; zeros dropped). */
export function rankLanguages(probabilities: Readonly<Record<string, number>>): LanguageProbability[] {
  return Object.entries(probabilities)
    .map(([language, probability]) => ({ language, probability: round3(probability) }))
    .filter((entry) => entry.probability > 0)
    .sort((a, b) => b.probability - a.probability || a.language.localeCompare(b.language));
}

/** The job's result → the HTTP answer with the `top` most probable languages. */
export function detectLanguageResponse(result: LanguageDetectionResult, top: number): DetectLanguageResponse {
  const best = result.languages[0];
  return {
    language: best?.language ?? null,
    language_name: best ? languageName(best.language) : null,
    probability: best?.probability ?? 0,
    languages: result.languages.slice(0, top).map((entry) => ({ ...entry, name: languageName(entry.language) })),
    speech_start: result.speech_start,
    duration: result.duration,
    model: result.model,
    job_id: result.job_id,
  };
}
