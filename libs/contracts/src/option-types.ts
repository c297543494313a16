import { isWhisperLanguage, WHISPER_LANGUAGE_CODES } from './languages';

/**
 * The kinds of request option and what each kind means: how a multipart field becomes a value, when
 * a value is acceptable (and the message when it is not), and how the kind is described to readers
 * (README, OpenAPI). The options themselves are listed in transcribe-options.ts.
 */

interface OptionSpecBase {
  /** the field's name on the wire (multipart field, `error.field`) */
  name: string;
  /** its name in TranscribeOptions (camelCase) */
  key: string;
  /** `job`: travels to the worker in TranscribeOptions; `request`: read by the API only (how to answer) */
  scope: 'job' | 'request';
  /** one line for readers: the README table, the OpenAPI description */
  doc: string;
  /** what leaving out an option without a default means (for the docs) */
  unset?: string;
}

export interface IntOptionSpec extends OptionSpecBase {
  type: 'int';
  min: number;
  max: number;
  default?: number;
}

export interface BoolOptionSpec extends OptionSpecBase {
  type: 'bool';
  default?: boolean;
}

export interface StringOptionSpec extends OptionSpecBase {
  type: 'string';
  pattern: RegExp;
  /** what a valid value is, for the message "<name> must be <expected>, got …" */
  expected: string;
  default?: string;
}

/** One of a fixed list of values (a form's value is trimmed and lower-cased first). */
export interface EnumOptionSpec extends OptionSpecBase {
  type: 'enum';
  values: readonly string[];
  default?: string;
}

/** ISO-639-1 codes whisper knows; a comma-separated list in a form ("en, de" → ["en", "de"]). */
export interface LanguageListOptionSpec extends OptionSpecBase {
  type: 'language_list';
  default?: readonly string[];
}

/** One ISO-639-1 code whisper knows (a form's value is trimmed and lower-cased first). */
export interface LanguageOptionSpec extends OptionSpecBase {
  type: 'language';
  default?: string;
}

/** A decimal number in [min, max] ("0.5", ".5", "1e-1" in a form). */
export interface NumberOptionSpec extends OptionSpecBase {
  type: 'number';
  min: number;
  max: number;
  default?: number;
}

/**
 * whisper.cpp's temperature schedule: one value, or a comma-separated ascending arithmetic ladder
 * (start, start + step, …) that whisper.cpp runs up to 1, as "0,0.2,0.4,0.6,0.8,1". Values in [0, 1].
 */
export interface TemperatureOptionSpec extends OptionSpecBase {
  type: 'temperature';
  /** at most this many temperatures (each fallback is one more decoding pass) */
  maxSteps: number;
  default?: readonly number[];
}

export type OptionSpec =
  | IntOptionSpec
  | BoolOptionSpec
  | StringOptionSpec
  | EnumOptionSpec
  | LanguageListOptionSpec
  | LanguageOptionSpec
  | NumberOptionSpec
  | TemperatureOptionSpec;
export type OptionType = OptionSpec['type'];

/** The value each kind of option holds once parsed (TranscribeOptions' field types come from here). */
export interface OptionValueTypes {
  int: number;
  bool: boolean;
  string: string;
  /** narrowed to the spec's values in TranscribeOptions */
  enum: string;
  language_list: string[];
  language: string;
  number: number;
  /** the whole ladder, first value first (one value: no fallback) */
  temperature: number[];
}

/** Where a value comes from: a multipart field (strings, coerced first) or a job read back from Redis (typed already). */
export type OptionSource = 'form' | 'job';

/** An option as readers see it (JSON-safe): enough for the README table and an OpenAPI schema. */
export interface OptionDescription {
  name: string;
  key: string;
  scope: 'job' | 'request';
  type: OptionType;
  doc: string;
  default?: number | boolean | string | readonly string[] | readonly number[];
  unset?: string;
  minimum?: number;
  maximum?: number;
  /** a regular expression the value must match (strings) */
  pattern?: string;
  /** the accepted values (enums) */
  enum?: readonly string[];
  /** the accepted values of each list item (language lists) */
  items?: readonly string[];
  /** the most values a list may hold (temperature ladders) */
  maxItems?: number;
}

interface OptionKind<S extends OptionSpec> {
  /**
   * A multipart field → the value to check. Fields are strings (an array or object when a client
   * repeats or nests a name); what does not parse is returned as it came, for `problem` to name.
   * undefined: not set.
   */
  fromForm(raw: unknown): unknown;
  /** why the value is not acceptable, as the message a client reads; undefined when it is */
  problem(spec: S, value: unknown, source: OptionSource): string | undefined;
  /** the kind-specific part of describeOptions() */
  describe(spec: S): Partial<OptionDescription>;
}

/** The value as the client sent it, bounded (a message must not echo a whole upload). */
function clipped(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

const shown = (value: unknown): string => JSON.stringify(clipped(value));

/** At most this many unknown codes are listed in a message. */
const LISTED_CODES = 5;

const unknownCodes = (list: unknown[]): string[] => list.filter((code) => typeof code !== 'string' || !isWhisperLanguage(code)).map(String);

/**
 * One entry per kind. Messages say what is wrong (not an integer vs out of range, which codes are
 * unknown); the API and the worker use the same ones.
 */
export const OPTION_KINDS: { readonly [T in OptionType]: OptionKind<Extract<OptionSpec, { type: T }>> } = {
  int: {
    fromForm: (raw) => (typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw),
    problem: ({ name, min, max }, value) => {
      if (Number.isInteger(value) && (value as number) >= min && (value as number) <= max) return undefined;
      return Number.isInteger(value)
        ? `${name} must be between ${min} and ${max}, got ${value as number}`
        : `${name} must be an integer between ${min} and ${max}, got ${shown(value)}`;
    },
    describe: ({ min, max }) => ({ minimum: min, maximum: max }),
  },
  bool: {
    // implicit conversion would turn "false" into true: only these spellings, any letter case
    fromForm: (raw) => {
      if (typeof raw !== 'string') return raw;
      const normalized = raw.trim().toLowerCase();
      if (normalized === 'true' || normalized === '1') return true;
      if (normalized === 'false' || normalized === '0') return false;
      return raw;
    },
    problem: ({ name }, value, source) => {
      if (typeof value === 'boolean') return undefined;
      return source === 'form'
        ? `${name} must be true, false, 1 or 0 (any letter case), got ${shown(value)}`
        : `${name} must be a boolean, got ${shown(value)}`;
    },
    describe: () => ({}),
  },
  string: {
    // an empty field means "not set"
    fromForm: (raw) => (typeof raw === 'string' ? raw.trim() || undefined : raw),
    problem: ({ name, pattern, expected }, value) =>
      typeof value === 'string' && pattern.test(value) ? undefined : `${name} must be ${expected}, got ${shown(value)}`,
    describe: ({ pattern }) => ({ pattern: pattern.source }),
  },
  enum: {
    // an empty field means "not set"
    fromForm: (raw) => (typeof raw === 'string' ? raw.trim().toLowerCase() || undefined : raw),
    problem: ({ name, values }, value) =>
      typeof value === 'string' && values.includes(value) ? undefined : `${name} must be one of ${values.join(', ')}, got ${shown(value)}`,
    describe: ({ values }) => ({ enum: values }),
  },
  language_list: {
    // "EN, de ,en" → ["en", "de"]; an empty field means "no restriction"
    fromForm: (raw) => {
      if (typeof raw !== 'string') return raw;
      const codes = raw.split(',').map((code) => code.trim().toLowerCase()).filter(Boolean);
      return codes.length > 0 ? [...new Set(codes)] : undefined;
    },
    problem: ({ name }, value) => {
      if (!Array.isArray(value) || value.length === 0) return `${name} must be a comma-separated list of language codes such as "en,de"`;
      const unknown = unknownCodes(value);
      if (unknown.length === 0) return undefined;
      if (unknown.length === 1) return `${name} contains an unknown language code: ${clipped(unknown[0])}`;
      const listed = unknown.slice(0, LISTED_CODES).map(clipped).join(', ');
      return `${name} contains unknown language codes: ${listed}${unknown.length > LISTED_CODES ? `, … (${unknown.length} in all)` : ''}`;
    },
    describe: () => ({ items: WHISPER_LANGUAGE_CODES }),
  },
  language: {
    // an empty field means "not set"
    fromForm: (raw) => (typeof raw === 'string' ? raw.trim().toLowerCase() || undefined : raw),
    problem: ({ name }, value) => {
      if (typeof value === 'string' && isWhisperLanguage(value)) return undefined;
      return typeof value === 'string' && !value.includes(',')
        ? `${name} is not a language code whisper knows: ${shown(value)} (one ISO-639-1 code such as "en")`
        : `${name} must be one ISO-639-1 language code such as "en" (a list goes in allowed_languages), got ${shown(value)}`;
    },
    describe: () => ({ enum: WHISPER_LANGUAGE_CODES }),
  },
  number: {
    fromForm: (raw) => parseDecimal(raw),
    problem: ({ name, min, max }, value) => {
      if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) return undefined;
      return typeof value === 'number' && Number.isFinite(value)
        ? `${name} must be between ${min} and ${max}, got ${value}`
        : `${name} must be a number between ${min} and ${max}, got ${shown(value)}`;
    },
    describe: ({ min, max }) => ({ minimum: min, maximum: max }),
  },
  temperature: {
    // "0.2" → [0.2]; "0, 0.2 ,0.4" → [0, 0.2, 0.4]; what does not parse stays a string for the message
    fromForm: (raw) => {
      if (typeof raw !== 'string') return raw;
      if (raw.trim() === '') return undefined;
      const values = raw.split(',').map(parseDecimal);
      return values.every((value) => typeof value === 'number') ? values : raw;
    },
    problem: (spec, value) => temperatureProblem(spec, value),
    describe: ({ maxSteps }) => ({ minimum: 0, maximum: 1, maxItems: maxSteps }),
  },
};

/** A decimal number written as one ("0.5", ".5", "1", "1e-1"); anything else comes back as it was. */
function parseDecimal(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const text = raw.trim();
  if (text === '') return undefined;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : raw;
}

/** Ladder steps are compared at this precision (decimal fractions such as 0.1 are inexact). */
const LADDER_EPSILON = 1e-6;

/**
 * whisper.cpp takes a start and a step (temperature, temperature_inc) and tries start, start + step,
 * … while ≤ 1: a ladder must be exactly that sequence, so what a client asks is what runs.
 */
function temperatureProblem({ name, maxSteps }: TemperatureOptionSpec, value: unknown): string | undefined {
  const numbers = Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (!numbers) return `${name} must be a number between 0 and 1, or a comma-separated ladder such as "0,0.2,0.4,0.6,0.8,1", got ${shown(value)}`;
  const ladder = value as number[];
  const outside = ladder.find((t) => t < 0 || t > 1);
  if (outside !== undefined) return `${name} values must be between 0 and 1, got ${outside}`;
  if (ladder.length === 1) return undefined;
  if (ladder.length > maxSteps) return `${name} may list at most ${maxSteps} temperatures, got ${ladder.length}`;
  const step = ladder[1] - ladder[0];
  if (step <= LADDER_EPSILON) return `${name} ladder must be ascending, got ${ladder.join(',')}`;
  const arithmetic = ladder.every((t, i) => Math.abs(t - (ladder[0] + i * step)) <= LADDER_EPSILON);
  if (!arithmetic) {
    return `${name} ladder must be evenly spaced (start, start + step, …): whisper.cpp supports a start and a step only, got ${ladder.join(',')}`;
  }
  if (ladder[ladder.length - 1] + step <= 1 + LADDER_EPSILON) {
    return `${name} ladder must run up to 1 (whisper.cpp keeps adding the step while the temperature is ≤ 1): ${ladder.join(',')} would also try ${round6(ladder[ladder.length - 1] + step)}`;
  }
  return undefined;
}

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;

/** The kind's behaviour for one spec (the lookup TypeScript cannot narrow by itself). */
export function optionKind<S extends OptionSpec>(spec: S): OptionKind<S> {
  return OPTION_KINDS[spec.type] as unknown as OptionKind<S>;
}
