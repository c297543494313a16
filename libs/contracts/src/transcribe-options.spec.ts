import { ErrorCode } from './errors';
import { parseTranscribeJobData } from './job-validation';
import {
  checkTranscribeOptions,
  describeOptions,
  readTranscribeForm,
  resolveTranscribeForm,
  TRANSCRIBE_OPTIONS,
  TranscribeOptions,
  TranscribeRequestOptions,
  readFormatQuery,
} from './transcribe-options';

/** TranscribeOptions is derived from the table: this is the shape the pipeline and the jobs rely on. */
interface ExpectedOptions {
  batchSize: number;
  vad: boolean;
  diarize: boolean;
  alignWords: boolean;
  whisperModel?: string;
  minSpeakers?: number;
  maxSpeakers?: number;
  allowedLanguages?: string[];
  initialPrompt?: string;
  task: 'transcribe' | 'translate';
  language?: string;
  temperature: number[];
  beamSize: number;
  bestOf: number;
  noSpeechThreshold: number;
  conditionOnPreviousText: boolean;
  vadOnset: number;
  vadOffset?: number;
  chunkSize: number;
}

/** The decoding and VAD defaults: today's behaviour (whisper-cli's decoding, the VAD's constants). */
const DECODING_DEFAULTS = {
  task: 'transcribe',
  temperature: [0, 0.2, 0.4, 0.6, 0.8, 1],
  beamSize: 5,
  bestOf: 5,
  noSpeechThreshold: 0.6,
  conditionOnPreviousText: true,
  vadOnset: 0.5,
  chunkSize: 30,
};
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const optionsShape: Same<TranscribeOptions, ExpectedOptions> = true;
const requestShape: Same<
  TranscribeRequestOptions,
  {
    async: boolean;
    responseFormat: 'json' | 'text' | 'srt' | 'vtt' | 'tsv' | 'verbose_json';
    maxLineWidth?: number;
    maxLineCount?: number;
    maxWordsPerLine?: number;
    highlightWords: boolean;
  }
> = true;

const rejection = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error as { code: ErrorCode; field?: string; message: string };
  }
  throw new Error('expected a rejection');
};

describe('the option table', () => {
  it('derives TranscribeOptions and the request options', () => {
    expect([optionsShape, requestShape]).toEqual([true, true]);
  });

  it('names each option once, on the wire and inside', () => {
    const names = TRANSCRIBE_OPTIONS.map((spec) => spec.name);
    const keys = TRANSCRIBE_OPTIONS.map((spec) => spec.key);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(keys).size).toBe(keys.length);
    expect(names).toEqual(['batch_size', 'diarize', 'align_words', 'whisper_model', 'min_speakers', 'max_speakers', 'allowed_languages', 'initial_prompt', 'task', 'language', 'temperature', 'beam_size', 'best_of', 'no_speech_threshold', 'condition_on_previous_text', 'vad_onset', 'vad_offset', 'chunk_size', 'async', 'vad', 'response_format', 'max_line_width', 'max_line_count', 'max_words_per_line', 'highlight_words', 'callback_url', 'callback_secret', 'audio_url']);
  });

  it('describes every option with its type, default, range and doc (what the OpenAPI document is built from)', () => {
    const described = describeOptions();
    expect(described.map((option) => option.name)).toEqual(TRANSCRIBE_OPTIONS.map((spec) => spec.name));
    for (const option of described) expect(option.doc.length).toBeGreaterThan(10);
    const byName = Object.fromEntries(described.map((option) => [option.name, option]));
    expect(byName.batch_size).toMatchObject({ key: 'batchSize', scope: 'job', type: 'int', default: 16, minimum: 1, maximum: 64 });
    expect(byName.vad).toMatchObject({ type: 'bool', default: true });
    expect(byName.async).toMatchObject({ scope: 'request', type: 'bool', default: false });
    expect(byName.whisper_model).toMatchObject({ type: 'string', unset: "the worker's WHISPER_MODEL" });
    expect(byName.whisper_model.pattern).toBeDefined();
    expect(byName.min_speakers).not.toHaveProperty('default');
    expect(byName.allowed_languages.items).toContain('en');
    expect(JSON.parse(JSON.stringify(described))).toEqual(described);
  });
});

describe('the API reads the form with it', () => {
  const form = (fields: Record<string, unknown>) => readTranscribeForm(Object.assign(Object.create(null) as Record<string, unknown>, fields));

  it('coerces each field by its type and applies the defaults once', () => {
    const read = form({ batch_size: ' 8 ', diarize: 'True', whisper_model: ' small ', allowed_languages: 'EN, de', vad: '0' });
    expect(read).toEqual({ batchSize: 8, diarize: true, whisperModel: 'small', allowedLanguages: ['en', 'de'], vad: false });
    expect(resolveTranscribeForm(read)).toEqual({
      options: { batchSize: 8, diarize: true, alignWords: false, whisperModel: 'small', allowedLanguages: ['en', 'de'], vad: false, ...DECODING_DEFAULTS },
      request: { async: false, responseFormat: 'json', highlightWords: false },
    });
    expect(resolveTranscribeForm({})).toEqual({ options: { batchSize: 16, diarize: false, alignWords: false, vad: true, ...DECODING_DEFAULTS }, request: { async: false, responseFormat: 'json', highlightWords: false } });
  });

  it('reports an unknown field before any bad value, then the options in table order', () => {
    expect(rejection(() => form({ diarize: 'yes', batch_size: 'abc', colour: 'blue' }))).toMatchObject({ field: 'colour', message: 'unknown field "colour"' });
    expect(rejection(() => form({ diarize: 'yes', batch_size: 'abc' }))).toMatchObject({ field: 'batch_size' });
  });

  it('a field named like an Object method is an unknown field too', () => {
    for (const name of ['constructor', 'toString', '__proto__']) {
      expect(rejection(() => form({ [name]: 'x' }))).toMatchObject({ code: ErrorCode.ValidationFailed, field: name, message: `unknown field "${name}"` });
    }
  });

  it('min_speakers ≤ max_speakers is checked after the fields, with the defaults', () => {
    const read = form({ min_speakers: '3', max_speakers: '2' });
    expect(read).toEqual({ minSpeakers: 3, maxSpeakers: 2 });
    expect(rejection(() => resolveTranscribeForm(read))).toMatchObject({
      code: ErrorCode.ValidationFailed,
      field: 'min_speakers',
      message: 'min_speakers must not exceed max_speakers',
    });
  });
});

describe('the worker checks job data with it', () => {
  const job = (options: Record<string, unknown>) => ({ options, sizeBytes: 10, acceptedAt: 1 });

  it('gives an option the job lacks its default (jobs queued before the option existed)', () => {
    expect(parseTranscribeJobData(job({})).options).toEqual({ batchSize: 16, diarize: false, alignWords: false, vad: true, ...DECODING_DEFAULTS });
    expect(checkTranscribeOptions({ batchSize: 4, vad: false })).toMatchObject({ batchSize: 4, vad: false });
  });

  it('uses the same ranges and messages as the form, no coercion', () => {
    expect(rejection(() => checkTranscribeOptions({ batchSize: 65 }))).toMatchObject({ field: 'batch_size', message: 'batch_size must be between 1 and 64, got 65' });
    expect(rejection(() => checkTranscribeOptions({ batchSize: '8' }))).toMatchObject({ field: 'batch_size', message: 'batch_size must be an integer between 1 and 64, got "8"' });
    expect(rejection(() => checkTranscribeOptions({ maxSpeakers: 0 }))).toMatchObject({ field: 'max_speakers' });
    expect(rejection(() => checkTranscribeOptions({ vad: 'true' }))).toMatchObject({ field: 'vad', message: 'vad must be a boolean, got "true"' });
    expect(rejection(() => checkTranscribeOptions({ allowedLanguages: [] }))).toMatchObject({ field: 'allowed_languages' });
    expect(rejection(() => checkTranscribeOptions({ allowedLanguages: 'en' }))).toMatchObject({ field: 'allowed_languages' });
  });

  it('never passes on what the API reads for itself (async) or keys no option has', () => {
    expect(checkTranscribeOptions({ async: true, colour: 'blue' })).toEqual({ batchSize: 16, diarize: false, alignWords: false, vad: true, ...DECODING_DEFAULTS });
  });
});

describe('initial_prompt', () => {
  it('is trimmed text for the job (newlines kept), unset when empty', () => {
    expect(resolveTranscribeForm(readTranscribeForm({ initial_prompt: '  Names: Kennedy,\nBerlin. ' })).options.initialPrompt).toBe('Names: Kennedy,\nBerlin.');
    expect(readTranscribeForm({ initial_prompt: '   ' }).initialPrompt).toBeUndefined();
    expect(checkTranscribeOptions({ initialPrompt: 'Hallo' }).initialPrompt).toBe('Hallo');
  });

  it('rejects control characters and text over 2000 characters, naming the field', () => {
    for (const value of ['a\u0000b', 'x'.repeat(2001)]) {
      expect(rejection(() => readTranscribeForm({ initial_prompt: value }))).toMatchObject({
        code: ErrorCode.ValidationFailed,
        field: 'initial_prompt',
        message: expect.stringMatching(/^initial_prompt must be text of at most 2000 characters without control characters/),
      });
    }
    expect(rejection(() => checkTranscribeOptions({ initialPrompt: 42 }))).toMatchObject({ field: 'initial_prompt' });
  });
});

describe('output format options', () => {
  it('response_format is an enum (any letter case, trimmed), json by default; shaping options are request options', () => {
    expect(resolveTranscribeForm(readTranscribeForm({})).request).toEqual({ async: false, responseFormat: 'json', highlightWords: false });
    const fields = readTranscribeForm({ response_format: ' SRT ', max_line_width: '42', max_line_count: '2', max_words_per_line: '7', highlight_words: 'true' });
    expect(resolveTranscribeForm(fields).request).toEqual({ async: false, responseFormat: 'srt', maxLineWidth: 42, maxLineCount: 2, maxWordsPerLine: 7, highlightWords: true });
    expect(describeOptions().find((option) => option.name === 'response_format')).toMatchObject({
      type: 'enum',
      scope: 'request',
      default: 'json',
      enum: ['json', 'text', 'srt', 'vtt', 'tsv', 'verbose_json'],
    });
  });

  it('rejects a bad value with a 400 naming the field', () => {
    expect(rejection(() => readTranscribeForm({ response_format: 'docx' }))).toMatchObject({
      code: ErrorCode.ValidationFailed,
      field: 'response_format',
      message: 'response_format must be one of json, text, srt, vtt, tsv, verbose_json, got "docx"',
    });
    expect(rejection(() => readTranscribeForm({ max_line_width: '0' }))).toMatchObject({ field: 'max_line_width', message: 'max_line_width must be between 1 and 1000, got 0' });
    expect(rejection(() => readTranscribeForm({ max_line_count: 'two' }))).toMatchObject({ field: 'max_line_count' });
    expect(rejection(() => readTranscribeForm({ max_words_per_line: '1001' }))).toMatchObject({ field: 'max_words_per_line' });
    expect(rejection(() => readTranscribeForm({ highlight_words: 'yes' }))).toMatchObject({ field: 'highlight_words' });
  });

  it('the result query takes format (or response_format) and the shaping options with the same parsers', () => {
    expect(readFormatQuery({})).toEqual({ responseFormat: 'json', highlightWords: false });
    expect(readFormatQuery({ format: 'vtt', max_line_width: '30', highlight_words: '1' })).toEqual({ responseFormat: 'vtt', maxLineWidth: 30, highlightWords: true });
    expect(readFormatQuery({ response_format: 'tsv' })).toMatchObject({ responseFormat: 'tsv' });
    expect(rejection(() => readFormatQuery({ format: 'pdf' }))).toMatchObject({ code: ErrorCode.ValidationFailed, field: 'format', message: expect.stringContaining('must be one of') });
    expect(rejection(() => readFormatQuery({ format: ['srt', 'vtt'] }))).toMatchObject({ field: 'format' });
    expect(rejection(() => readFormatQuery({ diarize: 'true' }))).toMatchObject({ field: 'diarize', message: 'unknown query parameter "diarize"' });
    expect(rejection(() => readFormatQuery({ format: 'srt', response_format: 'vtt' }))).toMatchObject({ message: 'give format or response_format, not both' });
    expect(rejection(() => readFormatQuery({ max_line_count: '-1' }))).toMatchObject({ field: 'max_line_count' });
  });
});

describe('decoding options', () => {
  const resolved = (fields: Record<string, unknown>) => resolveTranscribeForm(readTranscribeForm(fields)).options;
  const bad = (fields: Record<string, unknown>) => rejection(() => resolved(fields));

  it('task is transcribe or translate (any letter case), transcribe by default', () => {
    expect(resolved({}).task).toBe('transcribe');
    expect(resolved({ task: ' Translate ' }).task).toBe('translate');
    expect(bad({ task: 'summarize' })).toMatchObject({ code: ErrorCode.ValidationFailed, field: 'task', message: 'task must be one of transcribe, translate, got "summarize"' });
    expect(rejection(() => checkTranscribeOptions({ task: 'TRANSLATE' }))).toMatchObject({ field: 'task' });
  });

  it('task=translate with an official .en model is a 400 (API and worker alike); multilingual and custom names pass', () => {
    expect(bad({ task: 'translate', whisper_model: 'base.en' })).toMatchObject({ code: ErrorCode.ValidationFailed, field: 'task', message: expect.stringMatching(/^task=translate needs a multilingual model/) });
    expect(rejection(() => checkTranscribeOptions({ task: 'translate', whisperModel: 'tiny.en' }))).toMatchObject({ field: 'task' });
    expect(resolved({ task: 'translate', whisper_model: 'base' }).task).toBe('translate');
    expect(resolved({ task: 'transcribe', whisper_model: 'base.en' }).task).toBe('transcribe');
  });

  it('language is one code whisper knows; a list, an unknown code or a disagreement with allowed_languages is a 400', () => {
    expect(resolved({ language: ' DE ' }).language).toBe('de');
    expect(resolved({ language: 'de', allowed_languages: 'en,de' })).toMatchObject({ language: 'de', allowedLanguages: ['en', 'de'] });
    expect(bad({ language: 'en,de' })).toMatchObject({ field: 'language', message: expect.stringContaining('a list goes in allowed_languages') });
    expect(bad({ language: 'xx' })).toMatchObject({ field: 'language', message: 'language is not a language code whisper knows: "xx" (one ISO-639-1 code such as "en")' });
    expect(bad({ language: 'fr', allowed_languages: 'en,de' })).toMatchObject({ field: 'language', message: 'language must be one of allowed_languages (or give only one of the two)' });
    expect(bad({ language: 'de', whisper_model: 'small.en' })).toMatchObject({ field: 'language', message: expect.stringContaining('English-only') });
    expect(rejection(() => checkTranscribeOptions({ language: ['en'] }))).toMatchObject({ field: 'language' });
  });

  it('temperature: one value (no fallback) or an evenly spaced ladder up to 1; the default is whisper-cli\'s 0 step 0.2', () => {
    expect(resolved({}).temperature).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(resolved({ temperature: '0' }).temperature).toEqual([0]);
    expect(resolved({ temperature: ' .7 ' }).temperature).toEqual([0.7]);
    expect(resolved({ temperature: '0.5, 0.75, 1' }).temperature).toEqual([0.5, 0.75, 1]);
    expect(resolved({ temperature: '0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1' }).temperature).toHaveLength(11);
    expect(checkTranscribeOptions({ temperature: [0.2] }).temperature).toEqual([0.2]);
  });

  it('temperature: bad values are 400s that say why', () => {
    expect(bad({ temperature: 'hot' })).toMatchObject({ field: 'temperature', message: expect.stringMatching(/^temperature must be a number between 0 and 1, or a comma-separated ladder/) });
    expect(bad({ temperature: '1.5' })).toMatchObject({ field: 'temperature', message: 'temperature values must be between 0 and 1, got 1.5' });
    expect(bad({ temperature: '-0.1' })).toMatchObject({ field: 'temperature' });
    expect(bad({ temperature: '0,0.2,0.5,1' })).toMatchObject({ field: 'temperature', message: expect.stringContaining('whisper.cpp supports a start and a step only') });
    expect(bad({ temperature: '1,0.5' })).toMatchObject({ field: 'temperature', message: expect.stringContaining('must be ascending') });
    expect(bad({ temperature: '0,0.2,0.4' })).toMatchObject({ field: 'temperature', message: expect.stringContaining('would also try 0.6') });
    expect(bad({ temperature: '0,0.05,0.1,0.15,0.2,0.25,0.3,0.35,0.4,0.45,0.5,0.55' })).toMatchObject({ field: 'temperature', message: expect.stringContaining('at most 11') });
    expect(bad({ temperature: '0,,1' })).toMatchObject({ field: 'temperature' });
    expect(rejection(() => checkTranscribeOptions({ temperature: 0.5 }))).toMatchObject({ field: 'temperature' });
    expect(rejection(() => checkTranscribeOptions({ temperature: [] }))).toMatchObject({ field: 'temperature' });
  });

  it('beam_size and best_of are 1..8, 5 by default', () => {
    expect(resolved({ beam_size: '1', best_of: '8' })).toMatchObject({ beamSize: 1, bestOf: 8 });
    expect(bad({ beam_size: '0' })).toMatchObject({ field: 'beam_size', message: 'beam_size must be between 1 and 8, got 0' });
    expect(bad({ beam_size: '9' })).toMatchObject({ field: 'beam_size' });
    expect(bad({ best_of: '2.5' })).toMatchObject({ field: 'best_of', message: 'best_of must be an integer between 1 and 8, got "2.5"' });
  });

  it('no_speech_threshold is a number 0..1, 0.6 by default', () => {
    expect(resolved({ no_speech_threshold: '0.25' }).noSpeechThreshold).toBe(0.25);
    expect(resolved({ no_speech_threshold: '1' }).noSpeechThreshold).toBe(1);
    expect(bad({ no_speech_threshold: '1.01' })).toMatchObject({ field: 'no_speech_threshold', message: 'no_speech_threshold must be between 0 and 1, got 1.01' });
    expect(bad({ no_speech_threshold: 'half' })).toMatchObject({ field: 'no_speech_threshold', message: 'no_speech_threshold must be a number between 0 and 1, got "half"' });
    expect(rejection(() => checkTranscribeOptions({ noSpeechThreshold: '0.5' }))).toMatchObject({ field: 'no_speech_threshold' });
  });

  it('condition_on_previous_text is a boolean, true by default (whisper.cpp conditions each window on the previous one)', () => {
    expect(resolved({ condition_on_previous_text: 'false' }).conditionOnPreviousText).toBe(false);
    expect(bad({ condition_on_previous_text: 'maybe' })).toMatchObject({ field: 'condition_on_previous_text' });
  });

  it('vad_onset / vad_offset are 0..1 with onset > offset (Silero\'s onset − 0.15 when no offset), chunk_size 1..30 s', () => {
    expect(resolved({ vad_onset: '0.6', vad_offset: '0.3', chunk_size: '10' })).toMatchObject({ vadOnset: 0.6, vadOffset: 0.3, chunkSize: 10 });
    expect(resolved({}).vadOffset).toBeUndefined();
    expect(resolved({ vad_onset: '0.1' }).vadOnset).toBe(0.1);
    expect(bad({ vad_onset: '0.3', vad_offset: '0.3' })).toMatchObject({ field: 'vad_offset', message: expect.stringMatching(/^vad_offset must be below vad_onset/) });
    expect(bad({ vad_offset: '0.6' })).toMatchObject({ field: 'vad_offset' });
    expect(bad({ vad_onset: '0.01' })).toMatchObject({ field: 'vad_offset' });
    expect(bad({ vad_onset: '2' })).toMatchObject({ field: 'vad_onset', message: 'vad_onset must be between 0 and 1, got 2' });
    expect(bad({ vad_offset: 'low' })).toMatchObject({ field: 'vad_offset' });
    expect(bad({ chunk_size: '0' })).toMatchObject({ field: 'chunk_size', message: 'chunk_size must be between 1 and 30, got 0' });
    expect(bad({ chunk_size: '31' })).toMatchObject({ field: 'chunk_size' });
  });

  it('describes every new option for the docs (type, default or unset, range)', () => {
    const byName = Object.fromEntries(describeOptions().map((option) => [option.name, option]));
    expect(byName.task).toMatchObject({ type: 'enum', default: 'transcribe', enum: ['transcribe', 'translate'] });
    expect(byName.language).toMatchObject({ type: 'language', unset: expect.any(String) });
    expect(byName.language.enum).toContain('de');
    expect(byName.temperature).toMatchObject({ type: 'temperature', default: [0, 0.2, 0.4, 0.6, 0.8, 1], minimum: 0, maximum: 1, maxItems: 11 });
    expect(byName.beam_size).toMatchObject({ type: 'int', default: 5, minimum: 1, maximum: 8 });
    expect(byName.best_of).toMatchObject({ type: 'int', default: 5, minimum: 1, maximum: 8 });
    expect(byName.no_speech_threshold).toMatchObject({ type: 'number', default: 0.6, minimum: 0, maximum: 1 });
    expect(byName.condition_on_previous_text).toMatchObject({ type: 'bool', default: true });
    expect(byName.vad_onset).toMatchObject({ type: 'number', default: 0.5, minimum: 0, maximum: 1 });
    expect(byName.vad_offset).toMatchObject({ type: 'number', unset: expect.stringContaining('0.15'), minimum: 0, maximum: 1 });
    expect(byName.chunk_size).toMatchObject({ type: 'int', default: 30, minimum: 1, maximum: 30 });
    for (const option of Object.values(byName)) expect('default' in option || 'unset' in option || option.type === 'bool').toBe(true);
  });
});

describe('audio_url', () => {
  const problem = (value: string) => {
    try {
      readTranscribeForm({ audio_url: value });
      return undefined;
    } catch (error) {
      return (error as { field?: string }).field;
    }
  };
  it('takes http(s) URLs up to 2048 characters, nothing else', () => {
    expect(problem('https://example.com/a.wav?sig=1')).toBeUndefined();
    expect(problem('ftp://example.com/a.wav')).toBe('audio_url');
    expect(problem('file:///etc/passwd')).toBe('audio_url');
    expect(problem(`https://example.com/${'a'.repeat(2028)}`)).toBeUndefined(); // 2048
    expect(problem(`https://example.com/${'a'.repeat(2029)}`)).toBe('audio_url');
    expect(problem('https://exa mple.com/a.wav')).toBe('audio_url');
  });
});
