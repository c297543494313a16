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
}
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
    expect(names).toEqual(['batch_size', 'diarize', 'align_words', 'whisper_model', 'min_speakers', 'max_speakers', 'allowed_languages', 'initial_prompt', 'task', 'async', 'vad', 'response_format', 'max_line_width', 'max_line_count', 'max_words_per_line', 'highlight_words']);
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
      options: { batchSize: 8, diarize: true, alignWords: false, whisperModel: 'small', allowedLanguages: ['en', 'de'], vad: false },
      request: { async: false, responseFormat: 'json', highlightWords: false },
    });
    expect(resolveTranscribeForm({})).toEqual({ options: { batchSize: 16, diarize: false, alignWords: false, vad: true }, request: { async: false, responseFormat: 'json', highlightWords: false } });
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
    expect(parseTranscribeJobData(job({})).options).toEqual({ batchSize: 16, diarize: false, alignWords: false, vad: true });
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
    expect(checkTranscribeOptions({ async: true, colour: 'blue' })).toEqual({ batchSize: 16, diarize: false, alignWords: false, vad: true });
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
