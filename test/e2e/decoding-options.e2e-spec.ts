/**
 * Decoding options end to end (issue 12, item 3) through POST /transcribe, the real worker and
 * whisper.cpp: a 400 for bad values, and each option's effect. The effect is read from what the
 * addon reports it passed to whisper_full (result.decoding.whisper_params, read back from the
 * struct) and from the output: a micro model with a random (unscripted) decoder reacts to its
 * context, so the task token, the initial prompt, sampling, beam search, best_of,
 * no_speech_threshold and the previous text's prompt each change the text; the VAD options change
 * the chunks.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RANDOM_DECODER_MODEL, writeRandomDecoderModel } from '../../scripts/fixtures/random-decoder-model';
import { JFK_WAV } from '../support/samples';
import { MODEL_DIR, postTranscribe, ServiceStack, startStack } from '../support/service-harness';
import { encodeWav, readPcm16Wav, repeatSpeech } from '../support/wav';

jest.setTimeout(300_000);

interface Chunk {
  start: number;
  end: number;
}

describe('decoding options end to end', () => {
  let stack: ServiceStack;
  let modelDir: string;
  const jfkPcm = readPcm16Wav(readFileSync(JFK_WAV));
  const jfk = encodeWav(jfkPcm);
  /** 65 s of speech (jfk again and again): more than one 30 s window, several VAD chunks */
  const long = encodeWav(repeatSpeech(jfkPcm, 65, 2));
  const text = (body: { segments: { text: string }[] }) => body.segments.map((segment) => segment.text).join(' ');
  const transcribe = async (fields: Record<string, string>, audio = jfk) => {
    const response = await postTranscribe(stack.base, audio, fields);
    if (response.status !== 200) throw new Error(`expected 200, got ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body;
  };
  /** the random-decoder model on the whole file, at T=0 without fallback: sampling and search decide the text */
  const randomDecoder = { whisper_model: RANDOM_DECODER_MODEL, allowed_languages: 'en', temperature: '0', beam_size: '1', best_of: '1' };

  beforeAll(async () => {
    // the shared generated models, plus the random-decoder one, in a model directory of this spec's own
    modelDir = mkdtempSync(join(tmpdir(), 'decoding-options-models-'));
    for (const name of ['ggml-synthetic-micro.bin', 'ggml-synthetic-micro-en.bin']) symlinkSync(join(MODEL_DIR, name), join(modelDir, name));
    await writeRandomDecoderModel(modelDir);
    stack = await startStack({ WHISPER_MODEL: 'synthetic-micro', MODEL_DIR: modelDir }, { WHISPER_MODEL: 'synthetic-micro', MODEL_DIR: modelDir, MAX_UPLOAD_MB: '50' });
  });

  afterAll(async () => {
    await stack?.stop();
    if (modelDir) rmSync(modelDir, { recursive: true, force: true });
  });

  it.each([
    ['task', { task: 'summarize' }, 'task must be one of transcribe, translate, got "summarize"'],
    ['task', { task: 'translate', whisper_model: 'tiny.en' }, 'task=translate needs a multilingual model'],
    ['language', { language: 'xx' }, 'language is not a language code whisper knows'],
    ['language', { language: 'fr', allowed_languages: 'en,de' }, 'language must be one of allowed_languages'],
    ['temperature', { temperature: '1.5' }, 'temperature values must be between 0 and 1, got 1.5'],
    ['temperature', { temperature: '0,0.3,0.4' }, 'whisper.cpp supports a start and a step only'],
    ['beam_size', { beam_size: '9' }, 'beam_size must be between 1 and 8, got 9'],
    ['best_of', { best_of: '0' }, 'best_of must be between 1 and 8, got 0'],
    ['no_speech_threshold', { no_speech_threshold: 'high' }, 'no_speech_threshold must be a number between 0 and 1'],
    ['condition_on_previous_text', { condition_on_previous_text: 'maybe' }, 'condition_on_previous_text must be true, false, 1 or 0'],
    ['vad_onset', { vad_onset: '1.2' }, 'vad_onset must be between 0 and 1, got 1.2'],
    ['vad_offset', { vad_onset: '0.3', vad_offset: '0.4' }, 'vad_offset must be below vad_onset'],
    ['chunk_size', { chunk_size: '45' }, 'chunk_size must be between 1 and 30, got 45'],
  ])('a bad %s is a 400 naming the field: %j', async (field, fields, message) => {
    const { status, body } = await postTranscribe(stack.base, jfk, fields as Record<string, string>);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'validation_failed', field });
    expect(body.error.message).toContain(message);
  });

  it('defaults: today\'s decoding (whisper-cli: beam 5, best_of 5, 0 then +0.2, no_speech_thold 0.6), transcribe, Silero 0.5/0.35, 30 s chunks', async () => {
    const body = await transcribe({ allowed_languages: 'en' });
    expect(body.decoding).toMatchObject({
      task: 'transcribe',
      language: 'en',
      temperature: [0, 0.2, 0.4, 0.6, 0.8, 1],
      beam_size: 5,
      best_of: 5,
      no_speech_threshold: 0.6,
      condition_on_previous_text: true,
      vad: { onset: 0.5, offset: 0.35, chunk_size: 30 },
    });
    expect(body.decoding.whisper_params).toEqual({
      translate: false,
      strategy: 'beam_search',
      beam_size: 5,
      best_of: 5,
      temperature: 0,
      temperature_inc: 0.2,
      no_speech_thold: 0.6,
      no_context: true,
      carry_initial_prompt: false,
      n_max_text_ctx: 16384,
      n_prompt_tokens: 0,
      language: 'en',
    });
  });

  it('task=translate reaches whisper.cpp\'s translate flag; verbose_json says translate; an English-only model file is a 400', async () => {
    const body = await transcribe({ task: 'translate', allowed_languages: 'de' });
    expect(body.decoding).toMatchObject({ task: 'translate', language: 'de', whisper_params: { translate: true, language: 'de' } });
    const verbose = await transcribe({ task: 'translate', response_format: 'verbose_json' });
    expect(verbose.task).toBe('translate');
    expect((await transcribe({ response_format: 'verbose_json' })).task).toBe('transcribe');
    // a custom name is not known to be English-only until the worker opens the file
    const { status, body: refused } = await postTranscribe(stack.base, jfk, { task: 'translate', whisper_model: 'synthetic-micro-en' });
    expect(status).toBe(400);
    expect(refused.error).toMatchObject({ field: 'task', message: expect.stringContaining('task=translate needs a multilingual model') });
  });

  it('the decoder itself sees the task token and the prompt: on the random decoder, translate and a prompt each change the text', async () => {
    const transcribed = await transcribe({ ...randomDecoder, vad: 'false' });
    const translated = await transcribe({ ...randomDecoder, vad: 'false', task: 'translate' });
    const prompted = await transcribe({ ...randomDecoder, vad: 'false', initial_prompt: 'Ask not what your country can do for you.' });
    expect(text(transcribed).length).toBeGreaterThan(0);
    // <|translate|> instead of <|transcribe|> in the decoder's context
    expect(text(translated)).not.toBe(text(transcribed));
    // <|startofprev|> and the prompt's tokens before <|startoftranscript|>
    expect(text(prompted)).not.toBe(text(transcribed));
    expect(prompted.decoding.whisper_params.n_prompt_tokens).toBeGreaterThan(5);
  });

  it('language forces the decoding language without detection', async () => {
    const body = await transcribe({ language: 'fr' });
    expect(body).toMatchObject({ language: 'fr', language_probability: 1 });
    expect(body.decoding.whisper_params.language).toBe('fr');
  });

  it('initial_prompt reaches the decoder as prompt tokens; condition_on_previous_text=false carries only the prompt', async () => {
    const prompted = await transcribe({ allowed_languages: 'en', initial_prompt: 'Ask not what your country can do for you.' });
    const tokens = prompted.decoding.whisper_params.n_prompt_tokens;
    expect(tokens).toBeGreaterThan(5);
    expect(prompted.decoding.whisper_params).toMatchObject({ carry_initial_prompt: false, n_max_text_ctx: 16384 });
    const alone = await transcribe({ allowed_languages: 'en', initial_prompt: 'Ask not what your country can do for you.', condition_on_previous_text: 'false' });
    expect(alone.decoding).toMatchObject({ condition_on_previous_text: false, whisper_params: { carry_initial_prompt: true, n_prompt_tokens: tokens, n_max_text_ctx: tokens + 1 } });
  });

  it('temperature: T=0 is the same text every run, T=1 samples other text (random decoder); the ladder reaches start + step', async () => {
    const cold = await transcribe({ ...randomDecoder, vad: 'false' });
    const again = await transcribe({ ...randomDecoder, vad: 'false' });
    const hot = await transcribe({ ...randomDecoder, vad: 'false', temperature: '1' });
    expect(text(cold).length).toBeGreaterThan(0);
    expect(text(again)).toBe(text(cold));
    expect(text(hot)).not.toBe(text(cold));
    expect(cold.decoding.whisper_params).toMatchObject({ temperature: 0, temperature_inc: 0 });
    expect(hot.decoding).toMatchObject({ temperature: [1], whisper_params: { temperature: 1, temperature_inc: 0 } });
    const ladder = await transcribe({ allowed_languages: 'en', temperature: '0.5,0.75,1' });
    expect(ladder.decoding).toMatchObject({ temperature: [0.5, 0.75, 1], whisper_params: { temperature: 0.5, temperature_inc: 0.25 } });
  });

  it('beam_size and best_of reach whisper.cpp and change the text on the random decoder', async () => {
    const greedy = await transcribe({ ...randomDecoder, vad: 'false' });
    const beam = await transcribe({ ...randomDecoder, vad: 'false', beam_size: '5' });
    expect(greedy.decoding.whisper_params).toMatchObject({ strategy: 'greedy', beam_size: 1 });
    expect(beam.decoding.whisper_params).toMatchObject({ strategy: 'beam_search', beam_size: 5 });
    expect(text(beam)).not.toBe(text(greedy));

    const one = await transcribe({ ...randomDecoder, vad: 'false', temperature: '0.5', best_of: '1' });
    const four = await transcribe({ ...randomDecoder, vad: 'false', temperature: '0.5', best_of: '4' });
    expect(four.decoding.whisper_params).toMatchObject({ best_of: 4, temperature: 0.5 });
    expect(text(four)).not.toBe(text(one));
  });

  it('no_speech_threshold: 0 drops every window of the random decoder (no-speech prob above it, avg logprob below -1), 1 keeps them', async () => {
    const dropped = await transcribe({ ...randomDecoder, vad: 'false', no_speech_threshold: '0' });
    const kept = await transcribe({ ...randomDecoder, vad: 'false', no_speech_threshold: '1' });
    expect(dropped.decoding.whisper_params.no_speech_thold).toBe(0);
    expect(dropped.segments).toEqual([]);
    expect(kept.segments.length).toBeGreaterThan(0);
    expect(kept.segments.every((segment: { avg_logprob: number }) => segment.avg_logprob < -1)).toBe(true);
  });

  it('condition_on_previous_text: after the first 30 s window the text differs (the previous window\'s text is or is not the prompt)', async () => {
    const conditioned = await transcribe({ ...randomDecoder, vad: 'false' }, long);
    const fresh = await transcribe({ ...randomDecoder, vad: 'false', condition_on_previous_text: 'false' }, long);
    expect(fresh.decoding.whisper_params).toMatchObject({ carry_initial_prompt: true, n_max_text_ctx: 0, n_prompt_tokens: 0 });
    const firstWindow = (body: { segments: { end: number; text: string }[] }) => body.segments.filter((s) => s.end <= 29).map((s) => s.text);
    expect(firstWindow(fresh).length).toBeGreaterThan(0);
    expect(firstWindow(fresh)).toEqual(firstWindow(conditioned));
    expect(text(fresh)).not.toBe(text(conditioned));
  });

  it('vad_onset / vad_offset and chunk_size change the chunking', async () => {
    const chunksOf = (body: { decoding: { vad: { chunks: Chunk[] } } }) => body.decoding.vad.chunks;
    const standard = await transcribe({ allowed_languages: 'en' }, long);
    const short = await transcribe({ allowed_languages: 'en', chunk_size: '8' }, long);
    const strict = await transcribe({ allowed_languages: 'en', vad_onset: '0.95', vad_offset: '0.9' }, long);
    for (const body of [standard, short, strict]) for (const chunk of chunksOf(body)) expect(chunk.end).toBeGreaterThan(chunk.start);
    expect(chunksOf(standard).every((chunk) => chunk.end - chunk.start <= 30)).toBe(true);
    expect(chunksOf(short).every((chunk) => chunk.end - chunk.start <= 8)).toBe(true);
    expect(chunksOf(short).length).toBeGreaterThan(chunksOf(standard).length);
    expect(short.decoding.vad).toMatchObject({ chunk_size: 8, onset: 0.5, offset: 0.35 });
    expect(strict.decoding.vad).toMatchObject({ onset: 0.95, offset: 0.9 });
    expect(chunksOf(strict)).not.toEqual(chunksOf(standard));
    // stricter thresholds: less of the audio counts as speech
    const speech = (chunks: Chunk[]) => chunks.reduce((sum, chunk) => sum + chunk.end - chunk.start, 0);
    expect(speech(chunksOf(strict))).toBeLessThan(speech(chunksOf(standard)));
  });
});
