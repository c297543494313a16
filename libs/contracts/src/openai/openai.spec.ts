import { ErrorCode, ServiceError } from '../errors';
import type { TranscriptionResult } from '../jobs';
import { resolveTranscribeForm } from '../transcribe-options';
import type { WorkerHeartbeat } from '../workers';
import { asSentFields, readOpenAiTranscriptionForm, readOpenAiTranslationForm } from './openai-form';
import { openAiStreamError, sseMessage, TranscriptDeltas } from './openai-stream';
import { transcriptText } from '../formats/writers';
import { openAiModelList } from './openai-models';
import { isOpenAiPath, openAiErrorType, renderOpenAiTranscript, toOpenAiError } from './openai-responses';

function failure(body: Record<string, unknown>): ServiceError {
  try {
    readOpenAiTranscriptionForm(body);
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('expected a validation error');
}

describe('readOpenAiTranscriptionForm', () => {
  it('maps OpenAI fields onto the option table: whisper-1 → default model, language → forced, prompt → initial_prompt', () => {
    const { fields, answer } = readOpenAiTranscriptionForm({ model: 'whisper-1', language: 'DE', prompt: '  Hallo Welt ' });
    expect(fields).toEqual({ allowedLanguages: ['de'], initialPrompt: 'Hallo Welt' });
    expect(answer).toEqual({ responseFormat: 'json', temperature: 0, timestampGranularities: ['segment'], stream: false, task: 'transcribe' });
    expect(resolveTranscribeForm(fields).options.whisperModel).toBeUndefined();
  });

  it('accepts our model names as they are, and our extras', () => {
    const { fields } = readOpenAiTranscriptionForm({ model: 'small.en', diarize: 'true', batch_size: '4', max_line_width: '42' });
    expect(fields).toMatchObject({ whisperModel: 'small.en', diarize: true, batchSize: 4, maxLineWidth: 42 });
  });

  it('reads response_format, temperature and timestamp_granularities[] as the SDK sends them', () => {
    const { answer } = readOpenAiTranscriptionForm({ response_format: 'verbose_json', temperature: '0.2', timestamp_granularities: ['word', 'segment'] });
    expect(answer).toEqual({ responseFormat: 'verbose_json', temperature: 0.2, timestampGranularities: ['word', 'segment'], stream: false, task: 'transcribe' });
    expect(readOpenAiTranscriptionForm({ timestamp_granularities: 'word' }).answer.timestampGranularities).toEqual(['word']);
  });

  it('temperature: 0 (OpenAI\'s "automatic") keeps the job\'s fallback ladder, above 0 is that one temperature', () => {
    expect(readOpenAiTranscriptionForm({ temperature: '0' }).fields.temperature).toBeUndefined();
    expect(resolveTranscribeForm(readOpenAiTranscriptionForm({}).fields).options.temperature).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(readOpenAiTranscriptionForm({ temperature: '0.4' }).fields.temperature).toEqual([0.4]);
    expect(readOpenAiTranslationForm({ temperature: '1' }).fields.temperature).toEqual([1]);
  });

  it('the decoding options pass through as extras, with the option table\'s checks', () => {
    const { fields } = readOpenAiTranscriptionForm({ beam_size: '2', best_of: '3', no_speech_threshold: '0.5', condition_on_previous_text: 'false', vad_onset: '0.6', vad_offset: '0.3', chunk_size: '10' });
    expect(fields).toMatchObject({ beamSize: 2, bestOf: 3, noSpeechThreshold: 0.5, conditionOnPreviousText: false, vadOnset: 0.6, vadOffset: 0.3, chunkSize: 10 });
    expect(failure({ beam_size: '9' })).toMatchObject({ code: ErrorCode.ValidationFailed, field: 'beam_size' });
  });

  it('diarized_json turns diarization on; with diarize=false it is a 400', () => {
    expect(readOpenAiTranscriptionForm({ response_format: 'diarized_json' }).fields.diarize).toBe(true);
    expect(failure({ response_format: 'diarized_json', diarize: 'false' })).toMatchObject({ code: ErrorCode.ValidationFailed, field: 'response_format' });
  });

  it.each([
    [{ response_format: 'tsv' }, 'response_format', /one of json, text, srt, verbose_json, vtt, diarized_json/],
    [{ temperature: '1.5' }, 'temperature', /between 0 and 1/],
    [{ temperature: 'hot' }, 'temperature', /between 0 and 1/],
    [{ timestamp_granularities: ['char'] }, 'timestamp_granularities', /word and\/or segment/],
    [{ language: 'en,de' }, 'language', /one ISO-639-1 code/],
    [{ language: 'xx' }, 'language', /^language contains an unknown language code: xx$/],
    [{ language: 'en', allowed_languages: 'en,de' }, 'language', /not both/],
    [{ model: 'bad/name' }, 'model', /^model must be one model name/],
    [{ prompt: 'a\u0001b' }, 'prompt', /^prompt must be text of at most 2000 characters/],
    [{ stream: 'maybe' }, 'stream', /stream must be true or false/],
    [{ stream: 'true', response_format: 'srt' }, 'response_format', /^stream=true streams text only: response_format must be json or text \(got srt\)/],
    [{ stream: 'true', response_format: 'verbose_json' }, 'response_format', /streams text only/],
    [{ stream: 'true', response_format: 'vtt' }, 'response_format', /streams text only/],
    [{ include: ['logprobs'] }, 'include', /not supported/],
    [{ whisper_model: 'tiny' }, 'whisper_model', /on \/v1 it is "model"/],
    [{ async: 'true' }, 'async', /unknown field "async"/],
    [{ batch_size: '0' }, 'batch_size', /between 1 and 64/],
  ])('%j → 400 on %s', (body, field, message) => {
    const error = failure(body);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ code: ErrorCode.ValidationFailed, field });
    expect(error.message).toMatch(message);
  });

  it('stream=true (as the SDK sends it) with json or text', () => {
    expect(readOpenAiTranscriptionForm({ stream: 'true' }).answer).toMatchObject({ stream: true, responseFormat: 'json' });
    expect(readOpenAiTranscriptionForm({ stream: 'true', response_format: 'text' }).answer).toMatchObject({ stream: true, responseFormat: 'text' });
    expect(readOpenAiTranscriptionForm({ stream: 'false', response_format: 'srt' }).answer).toMatchObject({ stream: false, responseFormat: 'srt' });
  });

  it('chunking_strategy is accepted and ignored (VAD always chunks)', () => {
    expect(readOpenAiTranscriptionForm({ chunking_strategy: 'auto' }).fields).toEqual({});
  });

  it('errors raised later on a mapped option name the OpenAI field', () => {
    const { sentAs } = readOpenAiTranscriptionForm({ model: 'tiny.en', language: 'de' });
    const renamed = asSentFields(new ServiceError(ErrorCode.UnknownModel, 'unknown whisper_model "x"', 'whisper_model'), sentAs) as ServiceError;
    expect(renamed.field).toBe('model');
    expect((asSentFields(new ServiceError(ErrorCode.UnsupportedLanguage, 'no', 'allowed_languages'), sentAs) as ServiceError).field).toBe('language');
  });
});

describe('readOpenAiTranslationForm', () => {
  const translationFailure = (body: Record<string, unknown>): ServiceError => {
    try {
      readOpenAiTranslationForm(body);
    } catch (error) {
      return error as ServiceError;
    }
    throw new Error('expected a validation error');
  };

  it('is the transcription form with task=translate: model, prompt, response_format, temperature, our extras', () => {
    const { fields, answer, sentAs } = readOpenAiTranslationForm({ model: 'whisper-1', prompt: 'Names: Kennedy.', response_format: 'verbose_json', temperature: '0.3', diarize: 'true' });
    expect(fields).toMatchObject({ task: 'translate', initialPrompt: 'Names: Kennedy.', diarize: true });
    expect(fields.whisperModel).toBeUndefined();
    expect(answer).toEqual({ responseFormat: 'verbose_json', temperature: 0.3, timestampGranularities: ['segment'], stream: false, task: 'translate' });
    expect(sentAs).toMatchObject({ task: 'model', initial_prompt: 'prompt' });
    expect(readOpenAiTranscriptionForm({}).fields.task).toBeUndefined();
  });

  it.each([
    [{ language: 'de' }, 'language', /not a field of \/v1\/audio\/translations.*always English/],
    [{ timestamp_granularities: ['word'] }, 'timestamp_granularities', /not a field of \/v1\/audio\/translations/],
    [{ stream: 'true' }, 'stream', /only transcriptions stream/],
    [{ response_format: 'diarized_json' }, 'response_format', /^response_format must be one of json, text, srt, verbose_json, vtt, got "diarized_json"/],
    [{ task: 'transcribe' }, 'task', /unknown field "task"/],
  ])('%j → 400 on %s', (body, field, message) => {
    const error = translationFailure(body);
    expect(error).toMatchObject({ code: ErrorCode.ValidationFailed, field });
    expect(error.message).toMatch(message);
  });

  it('an English-only model cannot translate: 400 on model', () => {
    const { fields, sentAs } = readOpenAiTranslationForm({ model: 'tiny.en' });
    let error: unknown;
    try {
      resolveTranscribeForm(fields);
    } catch (caught) {
      error = asSentFields(caught, sentAs);
    }
    expect(error).toMatchObject({ code: ErrorCode.ValidationFailed, field: 'model' });
    expect((error as Error).message).toMatch(/multilingual model/);
  });
});

describe('streamed transcripts (stream=true)', () => {
  const segment = (index: number, text: string) => ({ index, text });

  it('deltas join segments as the result\'s text does; done carries the final text; concatenation == done', () => {
    const deltas = new TranscriptDeltas();
    const sent = [segment(0, ' Hello  there. '), segment(1, '   '), segment(2, 'General Kenobi.')].map((s) => deltas.push(s));
    expect(sent).toEqual([{ type: 'transcript.text.delta', delta: 'Hello there.' }, undefined, { type: 'transcript.text.delta', delta: ' General Kenobi.' }]);
    const final = transcriptText(result);
    expect(deltas.finish(final)).toEqual({ events: [{ type: 'transcript.text.done', text: final }], consistent: true });
  });

  it('a segment index seen before (a rerun of the job) is skipped; what the segments missed comes as a last delta', () => {
    const deltas = new TranscriptDeltas();
    deltas.push(segment(0, 'Hello there.'));
    expect(deltas.push(segment(0, 'Hello there.'))).toBeUndefined();
    const { events, consistent } = deltas.finish('Hello there. General Kenobi.');
    expect(consistent).toBe(true);
    expect(events).toEqual([{ type: 'transcript.text.delta', delta: ' General Kenobi.' }, { type: 'transcript.text.done', text: 'Hello there. General Kenobi.' }]);
    expect(deltas.text).toBe('Hello there. General Kenobi.');
  });

  it('a final text that does not continue the deltas is reported, and done still has it', () => {
    const deltas = new TranscriptDeltas();
    deltas.push(segment(0, 'Hello'));
    expect(deltas.finish('Goodbye')).toEqual({ events: [{ type: 'transcript.text.done', text: 'Goodbye' }], consistent: false });
  });

  it('SSE messages the SDK parses; errors in OpenAI\'s shape', () => {
    expect(sseMessage({ type: 'transcript.text.delta', delta: 'a "b"\nc' })).toBe('data: {"type":"transcript.text.delta","delta":"a \\"b\\"\\nc"}\n\n');
    expect(openAiStreamError(ErrorCode.TranscriptionTimeout, 'slow')).toEqual({
      type: 'error',
      error: { message: 'slow', type: 'server_error', param: null, code: 'transcription_timeout' },
    });
    expect(openAiStreamError(ErrorCode.UnsupportedLanguage, 'no', 'language').error).toMatchObject({ type: 'invalid_request_error', param: 'language' });
  });
});

const result: TranscriptionResult = {
  job_id: 'j',
  language: 'en',
  language_probability: 1,
  duration: 3.2,
  model: 'tiny',
  segments: [
    { id: 0, start: 0, end: 1.5, text: ' Hello there.', avg_logprob: -0.2, no_speech_prob: 0.01, speaker: 'SPEAKER_00', words: [{ word: 'Hello', start: 0, end: 0.5, score: 0.9 }, { word: 'there.', start: 0.6, end: 1.4, score: 0.8 }] },
    { id: 1, start: 1.6, end: 3.1, text: ' General Kenobi.', avg_logprob: -0.3, no_speech_prob: 0.02, words: [{ word: 'General', start: 1.6, end: 2.2, score: 0.9 }, { word: 'Kenobi.', start: 2.3, end: 3, score: 0.7 }] },
  ],
  word_segments: [],
  timings_ms: {},
} as unknown as TranscriptionResult;
result.word_segments = result.segments.flatMap((segment) => segment.words);

const render = (responseFormat: Parameters<typeof renderOpenAiTranscript>[1]['responseFormat'], extra: Partial<Parameters<typeof renderOpenAiTranscript>[1]> = {}) =>
  renderOpenAiTranscript(result, { responseFormat, temperature: 0, timestampGranularities: ['segment'], stream: false, task: 'transcribe', ...extra });

describe('renderOpenAiTranscript', () => {
  it('json is OpenAI\'s {text, usage}, not our result', () => {
    expect(render('json')).toMatchObject({ kind: 'json', contentType: 'application/json; charset=utf-8', body: { text: 'Hello there. General Kenobi.', usage: { type: 'duration', seconds: 4 } } });
    expect(Object.keys(render('json').body)).toEqual(['text', 'usage']);
  });

  it('text is the transcript in one line', () => {
    expect(render('text')).toMatchObject({ kind: 'text', contentType: 'text/plain; charset=utf-8', body: 'Hello there. General Kenobi.\n' });
  });

  it('verbose_json has words only when word granularity is asked for, and the temperature', () => {
    const plain = render('verbose_json').body as Record<string, unknown>;
    expect(plain).toMatchObject({ task: 'transcribe', language: 'english', duration: 3.2, text: 'Hello there. General Kenobi.' });
    expect(plain.words).toBeUndefined();
    const withWords = render('verbose_json', { timestampGranularities: ['word'], temperature: 0.4 }).body as { words: unknown[]; segments: { temperature: number }[] };
    expect(withWords.words).toEqual([{ word: 'Hello', start: 0, end: 0.5 }, { word: 'there.', start: 0.6, end: 1.4 }, { word: 'General', start: 1.6, end: 2.2 }, { word: 'Kenobi.', start: 2.3, end: 3 }]);
    expect(withWords.segments.map((s) => s.temperature)).toEqual([0.4, 0.4]);
  });

  it('srt and vtt are our subtitle writers', () => {
    expect(render('srt').body).toMatch(/^1\n00:00:00,000 --> 00:00:01,500\n\[SPEAKER_00\] Hello there\.\n\n2\n/);
    expect(render('vtt')).toMatchObject({ contentType: 'text/vtt; charset=utf-8' });
    expect(render('vtt').body).toMatch(/^WEBVTT\n\n/);
  });

  it('diarized_json is OpenAI\'s TranscriptionDiarized', () => {
    expect(render('diarized_json').body).toEqual({
      task: 'transcribe',
      duration: 3.2,
      text: 'Hello there. General Kenobi.',
      segments: [
        { type: 'transcript.text.segment', id: 'seg_0', start: 0, end: 1.5, speaker: 'SPEAKER_00', text: 'Hello there.' },
        { type: 'transcript.text.segment', id: 'seg_1', start: 1.6, end: 3.1, speaker: 'unknown', text: 'General Kenobi.' },
      ],
      usage: { type: 'duration', seconds: 4 },
    });
  });
});

describe('OpenAI errors and models', () => {
  it('our error body → OpenAI\'s shape, code and field kept', () => {
    expect(toOpenAiError(400, { error: { code: 'validation_failed', message: 'bad', field: 'temperature' } })).toEqual({
      error: { message: 'bad', type: 'invalid_request_error', param: 'temperature', code: 'validation_failed' },
    });
    expect(toOpenAiError(500, { error: { code: 'internal_error', message: 'x', error_id: 'id1' } }).error).toMatchObject({ type: 'server_error', param: null, error_id: 'id1' });
    expect([401, 403, 404, 415, 429, 503].map(openAiErrorType)).toEqual(['authentication_error', 'permission_error', 'not_found_error', 'invalid_request_error', 'rate_limit_error', 'server_error']);
  });

  it('/v1 paths only', () => {
    expect([isOpenAiPath('/v1'), isOpenAiPath('/v1/models'), isOpenAiPath('/v10'), isOpenAiPath('/transcribe')]).toEqual([true, true, false, false]);
  });

  it('lists whisper-1, the official models and the custom models live workers have', () => {
    const worker = { available_models: ['synthetic-micro', 'tiny'], default_model: 'synthetic-micro' } as WorkerHeartbeat;
    const list = openAiModelList([worker, { ...worker, available_models: ['zz-custom'] }]);
    expect(list.object).toBe('list');
    const ids = list.data.map((model) => model.id);
    expect(ids[0]).toBe('whisper-1');
    expect(ids).toEqual(expect.arrayContaining(['tiny', 'large-v3-turbo', 'synthetic-micro', 'zz-custom']));
    expect(new Set(ids).size).toBe(ids.length);
    for (const model of list.data) expect(model).toEqual({ id: model.id, object: 'model', created: expect.any(Number), owned_by: expect.any(String) });
  });
});
