/**
 * What a client reads in a 400/503 body: which field is wrong and how (type vs range, the unknown
 * code), the English-only rule for every listed language, and model files named relative to
 * MODEL_DIR, never by the server's paths (those go to the worker's log).
 */
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { JFK_WAV } from '../support/samples';
import { MODEL_DIR, postTranscribe, ServiceStack, startStack } from '../support/service-harness';
import { encodeWav } from '../support/wav';

describe('error messages that say what is wrong', () => {
  let stack: ServiceStack;
  const jfkWav = readFileSync(JFK_WAV);
  const silence = encodeWav(new Float32Array(2 * 16_000));

  beforeAll(async () => {
    stack = await startStack({ WHISPER_MODEL: 'synthetic-micro' }, { WHISPER_MODEL: 'synthetic-micro' });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  describe('validation', () => {
    it.each([
      ['batch_size=abc', { batch_size: 'abc' }, 'batch_size', 'batch_size must be an integer between 1 and 64, got "abc"'],
      ['batch_size=100', { batch_size: '100' }, 'batch_size', 'batch_size must be between 1 and 64, got 100'],
      ['min_speakers=two', { min_speakers: 'two' }, 'min_speakers', 'min_speakers must be an integer between 1 and 100, got "two"'],
      ['allowed_languages=xx', { allowed_languages: 'xx' }, 'allowed_languages', 'allowed_languages contains an unknown language code: xx'],
      ['diarize=yes', { diarize: 'yes' }, 'diarize', 'diarize must be true, false, 1 or 0 (any letter case), got "yes"'],
    ])('%s', async (_name, fields, field, message) => {
      const { status, body } = await postTranscribe(stack.base, silence, fields);
      expect(status).toBe(400);
      expect(body.error).toEqual({ code: 'validation_failed', field, message });
    });

    it('booleans are case-insensitive: True and False as the Python client sends them', async () => {
      const queued = await postTranscribe(stack.base, silence, { async: 'True', diarize: 'False' });
      expect(queued.status).toBe(202);
      const sync = await postTranscribe(stack.base, silence, { async: 'False', diarize: 'FALSE', align_words: 'False', vad: 'True' });
      expect(sync.status).toBe(200);
      expect(sync.body.diarization).toBeUndefined();
      expect(sync.body.alignment).toBeUndefined();
    });
  });

  describe('English-only models and allowed_languages', () => {
    it('a .en model refuses a list with any language besides en (the model file decides)', async () => {
      const { status, body } = await postTranscribe(stack.base, silence, { whisper_model: 'synthetic-micro-en', allowed_languages: 'en,de' });
      expect(status).toBe(400);
      expect(body.error).toMatchObject({ code: 'unsupported_language', field: 'allowed_languages' });
      expect(body.error.message).toMatch(/English-only.*not de$/);
    });

    it('an official .en name is refused before its file is fetched', async () => {
      const { status, body } = await postTranscribe(stack.base, silence, { whisper_model: 'tiny.en', allowed_languages: 'en,fr' });
      expect(status).toBe(400);
      expect(body.error).toMatchObject({ code: 'unsupported_language', field: 'allowed_languages' });
    });

    it('en alone is fine', async () => {
      const { status, body } = await postTranscribe(stack.base, jfkWav, { whisper_model: 'synthetic-micro-en', allowed_languages: 'en' });
      expect(status).toBe(200);
      expect(body.language).toBe('en');
    });
  });

  describe('model placement messages', () => {
    const serverPath = resolve(MODEL_DIR);

    it('alignment unavailable: place the files in MODEL_DIR/align/<lang>', async () => {
      const { status, body } = await postTranscribe(stack.base, jfkWav, { allowed_languages: 'sw', align_words: 'true', vad: 'false' });
      expect(status).toBe(200);
      expect(body.alignment.status).toBe('unavailable');
      expect(body.alignment.reason).toContain('(model.onnx + vocab.json) in MODEL_DIR/align/sw');
      expect(body.alignment.reason).not.toContain(serverPath);
      // the operator still finds the real path in the worker's log
      expect(stack.worker.output()).toContain(resolve(serverPath, 'align', 'sw'));
    });

    it('whisper model unavailable: the file to place in MODEL_DIR, no server path', async () => {
      // only offline: online this would download the real tiny model
      const online = await lookup('huggingface.co').then(() => true, () => false);
      if (online) return console.warn('huggingface.co resolves: skipped (the model would be downloaded)');
      const { status, body } = await postTranscribe(stack.base, silence, { whisper_model: 'tiny' });
      expect(status).toBe(503);
      expect(body.error).toMatchObject({ code: 'model_unavailable', field: 'whisper_model' });
      expect(body.error.message).toMatch(/place ggml-tiny(-q8_0)?\.bin in MODEL_DIR$/);
      expect(body.error.message).not.toContain(serverPath);
      expect(stack.worker.output()).toMatch(new RegExp(`${serverPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/ggml-tiny`));
    });
  });
});
