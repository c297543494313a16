/**
 * The decoding options at the native boundary: the real addon reports the whisper_full_params it
 * passed to whisper_full (read back from the struct), and sampling really happens at T > 0.
 */
import { existsSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

import { writeRandomDecoderModel } from '../../../scripts/fixtures/random-decoder-model';

import { loadWhisperModel, temperatureSchedule } from './whisper-model';
import { WhisperModelHandle } from './whisper-types';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const MICRO = path.join(ROOT, 'models', 'ggml-synthetic-micro.bin');
const MICRO_EN = path.join(ROOT, 'models', 'ggml-synthetic-micro-en.bin');

jest.setTimeout(120_000);

/** 4 s of a chirp-like signal: something for the random decoder to look at. */
function tone(seconds: number): Float32Array {
  const pcm = new Float32Array(seconds * 16000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = 0.3 * Math.sin((2 * Math.PI * (200 + i / 200) * i) / 16000);
  return pcm;
}

const text = (result: { segments: { text: string }[] }): string => result.segments.map((segment) => segment.text).join('');

describe('temperatureSchedule (ladder → whisper.cpp start + step)', () => {
  it('one value: no fallback; a ladder: its start and step; none: whisper-cli\'s defaults stay', () => {
    expect(temperatureSchedule([0.7])).toEqual({ temperature: 0.7, temperatureInc: 0 });
    expect(temperatureSchedule([0, 0.2, 0.4, 0.6, 0.8, 1])).toEqual({ temperature: 0, temperatureInc: 0.2 });
    expect(temperatureSchedule([0.5, 0.75, 1])).toEqual({ temperature: 0.5, temperatureInc: 0.25 });
    expect(temperatureSchedule(undefined)).toEqual({});
  });

  it('refuses what whisper.cpp would run differently', () => {
    expect(() => temperatureSchedule([0, 0.3, 0.4])).toThrow(RangeError);
    expect(() => temperatureSchedule([0, 0.2])).toThrow(/up to 1/);
    expect(() => temperatureSchedule([])).toThrow(RangeError);
  });
});

describe('whisper_full_params as whisper.cpp got them', () => {
  let micro: WhisperModelHandle;
  const pcm = tone(4);

  beforeAll(async () => {
    if (!existsSync(MICRO) || !existsSync(MICRO_EN)) throw new Error('whisper test models missing: run npm run fixtures');
    micro = await loadWhisperModel(MICRO, { useGpu: false });
  });

  afterAll(async () => {
    await micro?.free();
  });

  it('defaults are whisper-cli\'s: beam 5, best_of 5, 0 then +0.2, no_speech_thold 0.6, previous text as prompt, transcribe', async () => {
    const result = await micro.transcribe(pcm, { language: 'en', threads: 1 });
    expect(result.params).toEqual({
      translate: false,
      strategy: 'beam_search',
      beam_size: 5,
      best_of: 5,
      temperature: 0,
      temperature_inc: expect.closeTo(0.2, 6),
      no_speech_thold: expect.closeTo(0.6, 6),
      no_context: true,
      carry_initial_prompt: false,
      n_max_text_ctx: 16384,
      n_prompt_tokens: 0,
      language: 'en',
    });
  });

  it('every option reaches the struct: translate, temperature ladder, greedy + best_of, no_speech_thold, no previous text, prompt tokens', async () => {
    const result = await micro.transcribe(pcm, {
      language: 'de',
      threads: 1,
      translate: true,
      temperatures: [0.5, 0.75, 1],
      beamSize: 1,
      bestOf: 3,
      noSpeechThreshold: 0.25,
      conditionOnPreviousText: false,
      initialPrompt: 'Ich bin ein Berliner.',
    });
    const params = result.params!;
    expect(params).toMatchObject({ translate: true, strategy: 'greedy', beam_size: 1, best_of: 3, carry_initial_prompt: true, language: 'de' });
    expect([params.temperature, params.temperature_inc, params.no_speech_thold]).toEqual([0.5, 0.25, 0.25]);
    expect(params.n_prompt_tokens).toBeGreaterThan(3);
    // the prompt budget is the prompt itself plus <|startofprev|>: no room for decoded text
    expect(params.n_max_text_ctx).toBe(params.n_prompt_tokens + 1);

    const withoutPrompt = await micro.transcribe(pcm, { language: 'en', threads: 1, conditionOnPreviousText: false, beamSize: 1 });
    expect(withoutPrompt.params).toMatchObject({ n_prompt_tokens: 0, n_max_text_ctx: 0 });
  });

  it('an English-only model cannot translate (a rejection, no crash)', async () => {
    const english = await loadWhisperModel(MICRO_EN, { useGpu: false });
    try {
      await expect(english.transcribe(pcm, { translate: true })).rejects.toThrow(/English-only; it cannot translate/);
      const result = await english.transcribe(pcm, { translate: false, beamSize: 1, threads: 1 });
      expect(result.params?.translate).toBe(false);
    } finally {
      await english.free();
    }
  });

  it('temperature really samples: T=1 gives other text than T=0 on a random decoder, T=0 is the same every run', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'random-decoder-'));
    const random = await loadWhisperModel(await writeRandomDecoderModel(dir), { useGpu: false });
    try {
      const greedy = { language: 'en', threads: 1, beamSize: 1, bestOf: 1 };
      const first = await random.transcribe(pcm, { ...greedy, temperatures: [0] });
      const again = await random.transcribe(pcm, { ...greedy, temperatures: [0] });
      const hot = await random.transcribe(pcm, { ...greedy, temperatures: [1] });
      expect(text(first).length).toBeGreaterThan(0);
      expect(text(again)).toBe(text(first));
      expect(text(hot)).not.toBe(text(first));
      expect([first.params?.temperature, hot.params?.temperature, hot.params?.temperature_inc]).toEqual([0, 1, 0]);
    } finally {
      await random.free();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad values are refused at the boundary (the option table keeps them away earlier)', async () => {
    await expect(micro.transcribe(pcm, { bestOf: 9 })).rejects.toThrow(/bestOf/);
    await expect(micro.transcribe(pcm, { noSpeechThreshold: 2 })).rejects.toThrow(/noSpeechThreshold/);
  });
});
