import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import {
  describeOptions,
  OPENAI_DEFAULT_MODEL,
  OPENAI_EXTRA_FIELDS,
  OPENAI_RESPONSE_FORMATS,
  OPENAI_STREAM_FORMATS,
  OPENAI_TIMESTAMP_GRANULARITIES,
  OPENAI_TRANSLATION_FORMATS,
  OptionDescription,
} from '@app/contracts';
import { optionProperties, optionSchema } from './option-schemas';

/**
 * The forms of POST /v1/audio/transcriptions and /v1/audio/translations: OpenAI's fields (the ones
 * mapped onto our options take their range from our table: model ← whisper_model, language ←
 * language, prompt ← initial_prompt), then our extras (OPENAI_EXTRA_FIELDS) exactly
 * as POST /transcribe documents them.
 */

function option(name: string): OptionDescription {
  const found = describeOptions().find((candidate) => candidate.name === name);
  if (!found) throw new Error(`the options table has no "${name}": the /v1 form documentation maps onto it`);
  return found;
}

/** An OpenAI field that fills one of our options: the option's type and range, OpenAI's wording. */
const mappedFrom = (name: string, description: string, overrides: SchemaObject = {}): SchemaObject => ({ ...optionSchema(option(name)), description, ...overrides });

const MODEL = (): SchemaObject =>
  mappedFrom('whisper_model', `"${OPENAI_DEFAULT_MODEL}" → the workers' default model (WHISPER_MODEL); or one of our model names (GET /v1/models)`, {
    default: OPENAI_DEFAULT_MODEL,
  });

const PROMPT = (): SchemaObject => mappedFrom('initial_prompt', "text that conditions the decoder (spellings, names, style): our initial_prompt");

const TEMPERATURE: SchemaObject = {
  type: 'number',
  minimum: 0,
  maximum: 1,
  default: 0,
  description: 'sampling temperature (0 = greedy); verbose_json segments report it',
};

const extras = (): Record<string, SchemaObject> =>
  optionProperties(describeOptions().filter((candidate) => (OPENAI_EXTRA_FIELDS as readonly string[]).includes(candidate.name)));

const formatField = (formats: readonly string[], extra = ''): SchemaObject => ({
  type: 'string',
  enum: [...formats],
  default: 'json',
  description: `json: {text, usage}; text; srt; vtt; verbose_json: OpenAI's verbose shape${formats.includes('diarized_json') ? '; diarized_json: speaker segments (turns diarization on)' : ''}${extra}`,
});

/** POST /v1/audio/transcriptions' fields besides `file`. */
export function openAiTranscriptionFields(): Record<string, SchemaObject> {
  return {
    model: MODEL(),
    language: mappedFrom('language', 'the spoken language (one ISO-639-1 code): decoded in it instead of detected'),
    prompt: PROMPT(),
    response_format: formatField(OPENAI_RESPONSE_FORMATS, `; with stream=true only ${OPENAI_STREAM_FORMATS.join(' or ')}`),
    temperature: TEMPERATURE,
    timestamp_granularities: {
      type: 'array',
      items: { type: 'string', enum: [...OPENAI_TIMESTAMP_GRANULARITIES] },
      default: ['segment'],
      description: 'verbose_json: `word` adds `words`. Sent as repeated `timestamp_granularities[]` parts (what the SDKs send) or one comma list',
    },
    stream: {
      type: 'boolean',
      default: false,
      description: 'true: Server-Sent Events (transcript.text.delta …, then transcript.text.done) as the audio is decoded',
    },
    chunking_strategy: { type: 'string', description: 'accepted and ignored: audio is always cut by Silero VAD here (vad=false turns that off)' },
    ...extras(),
  };
}

/** POST /v1/audio/translations' fields besides `file` (OpenAI's have no language, timestamp_granularities or stream). */
export function openAiTranslationFields(): Record<string, SchemaObject> {
  return {
    model: MODEL(),
    prompt: mappedFrom('initial_prompt', 'text that conditions the decoder, in English (our initial_prompt)'),
    response_format: formatField(OPENAI_TRANSLATION_FORMATS),
    temperature: TEMPERATURE,
    ...extras(),
  };
}
