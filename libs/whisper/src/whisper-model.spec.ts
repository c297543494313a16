/**
 * Exercises the real native addon against the synthetic fixture models (random weights,
 * real architecture): decoded text is meaningless, so this checks shapes, timing
 * invariants, concurrency, cancellation and memory — not transcription quality.
 */
import { randomBytes } from 'crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

import { loadWhisperModel, whisperLanguages, whisperSystemInfo } from './whisper-model';
import { JobCancelledError } from '@app/contracts';
import { WhisperDecodeResult, WhisperModelHandle } from './whisper-types';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const MODELS = {
  tiny: path.join(ROOT, 'models', 'ggml-synthetic-tiny.bin'),
  micro: path.join(ROOT, 'models', 'ggml-synthetic-micro.bin'),
  microEn: path.join(ROOT, 'models', 'ggml-synthetic-micro-en.bin'),
};
const JFK_WAV = path.join(ROOT, 'node_modules/nodejs-whisper/cpp/whisper.cpp/bindings/go/samples/jfk.wav');
const JFK_SECONDS = 11.1;
/** Text token ids are below EOT (50256 English-only, 50257 multilingual). */
const FIRST_SPECIAL_TOKEN = 50257;

jest.setTimeout(120_000);

/** 16-bit PCM, 16 kHz, mono WAV → float samples in [-1, 1). */
function readPcm16Wav(file: string): Float32Array {
  const buf = readFileSync(file);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${file} is not a RIFF/WAVE file`);
  }
  let format: { audioFormat: number; channels: number; sampleRate: number; bits: number } | undefined;
  for (let offset = 12; offset + 8 <= buf.length; ) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      format = {
        audioFormat: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        bits: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!format || format.audioFormat !== 1 || format.channels !== 1 || format.sampleRate !== 16000 || format.bits !== 16) {
        throw new Error(`${file}: expected 16-bit PCM 16 kHz mono, got ${JSON.stringify(format)}`);
      }
      const samples = new Float32Array(Math.min(size, buf.length - body) >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(body + 2 * i) / 32768;
      return samples;
    }
    offset = body + size + (size & 1);
  }
  throw new Error(`${file} has no data chunk`);
}

function expectSaneSegments(result: WhisperDecodeResult, durationSeconds: number): void {
  let previousStart = 0;
  let previousEnd = 0;
  for (const segment of result.segments) {
    expect(segment.start).toBeGreaterThanOrEqual(previousStart);
    expect(segment.end).toBeGreaterThanOrEqual(previousEnd);
    expect(segment.start).toBeGreaterThanOrEqual(0);
    expect(segment.end).toBeGreaterThanOrEqual(segment.start);
    expect(segment.end).toBeLessThanOrEqual(durationSeconds);
    expect(typeof segment.text).toBe('string');
    expect(segment.noSpeechProb).toBeGreaterThanOrEqual(0);
    expect(segment.noSpeechProb).toBeLessThanOrEqual(1);
    for (const token of segment.tokens) {
      expect(token.id).toBeGreaterThanOrEqual(0);
      expect(token.id).toBeLessThan(FIRST_SPECIAL_TOKEN);
      expect(token.p).toBeGreaterThanOrEqual(0);
      expect(token.p).toBeLessThanOrEqual(1);
      expect(token.plog).toBeLessThanOrEqual(0);
      expect(token.start).toBeGreaterThanOrEqual(segment.start);
      expect(token.end).toBeGreaterThanOrEqual(token.start);
      expect(token.end).toBeLessThanOrEqual(segment.end);
    }
    const meanPlog = segment.tokens.length
      ? segment.tokens.reduce((sum, token) => sum + token.plog, 0) / segment.tokens.length
      : 0;
    expect(segment.avgLogprob).toBeCloseTo(meanPlog, 4);
    previousStart = segment.start;
    previousEnd = segment.end;
  }
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function rssBytes(): number {
  return process.memoryUsage.rss();
}

describe('whisper.cpp native binding', () => {
  let jfk: Float32Array;
  let micro: WhisperModelHandle;

  beforeAll(async () => {
    const missing = Object.values(MODELS).filter((file) => !existsSync(file));
    if (missing.length > 0) {
      throw new Error(`whisper test models missing (${missing.join(', ')}): run npm run fixtures`);
    }
    jfk = readPcm16Wav(JFK_WAV);
    micro = await loadWhisperModel(MODELS.micro, { useGpu: false });
  });

  afterAll(async () => {
    await micro?.free();
  });

  it('reports languages and system info', () => {
    const languages = whisperLanguages();
    expect(languages.length).toBeGreaterThanOrEqual(99);
    expect(languages).toEqual(expect.arrayContaining(['en', 'de', 'fr', 'ja']));
    expect(new Set(languages).size).toBe(languages.length);
    expect(whisperSystemInfo()).toMatch(/CPU/);
  });

  it('loads multilingual and English-only models', async () => {
    expect(micro.isMultilingual).toBe(true);
    expect(micro.path).toBe(MODELS.micro);
    expect(micro.sizeBytes).toBe(readFileSync(MODELS.micro).length);

    const english = await loadWhisperModel(MODELS.microEn, { useGpu: false });
    try {
      expect(english.isMultilingual).toBe(false);
      await expect(english.detectLanguage(jfk)).rejects.toThrow(/multilingual/);
      await expect(english.transcribe(jfk, { language: 'de' })).rejects.toThrow(/English-only/);
      const result = await english.transcribe(jfk, { beamSize: 1 });
      expect(result.language).toBe('en');
      expectSaneSegments(result, JFK_SECONDS);
    } finally {
      await english.free();
    }
  });

  it('detects language probabilities over all model languages', async () => {
    const probabilities = await micro.detectLanguage(jfk);
    const codes = Object.keys(probabilities);
    expect(codes.length).toBeGreaterThanOrEqual(90);
    expect(whisperLanguages()).toEqual(expect.arrayContaining(codes));
    const values = Object.values(probabilities);
    for (const p of values) {
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }
    expect(values.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 3);

    await expect(micro.detectLanguage(jfk, { offsetSeconds: 60 })).rejects.toThrow(/past the end/);
  });

  it('transcribes jfk.wav into well-formed segments with increasing progress', async () => {
    const progress: number[] = [];
    const result = await micro.transcribe(jfk, { onProgress: (percent) => progress.push(percent) });

    expect(result.segments.length).toBeGreaterThan(0);
    expect(whisperLanguages()).toContain(result.language);
    expectSaneSegments(result, JFK_SECONDS);

    expect(progress.length).toBeGreaterThan(0);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThan(progress[i - 1]);
    expect(progress[progress.length - 1]).toBe(100);
  });

  it('honours an explicit language, greedy decoding and rejects unknown languages', async () => {
    const result = await micro.transcribe(jfk, { language: 'de', beamSize: 1, threads: 1 });
    expect(result.language).toBe('de');
    expectSaneSegments(result, JFK_SECONDS);

    await expect(micro.transcribe(jfk, { language: 'xx' })).rejects.toThrow(/unknown whisper language/);
    await expect(micro.transcribe(jfk, { beamSize: 0 })).rejects.toThrow(/beamSize/);
  });

  it('runs concurrent transcriptions on one model, each on its own state', async () => {
    const [a, b, c] = await Promise.all([
      micro.transcribe(jfk, { language: 'en' }),
      micro.transcribe(jfk, { language: 'en' }),
      micro.transcribe(jfk.subarray(0, 16000 * 5), { language: 'en' }),
    ]);
    expectSaneSegments(a, JFK_SECONDS);
    expectSaneSegments(c, 5);
    // Same input, same deterministic decoder: concurrent states must not interfere.
    expect(b).toEqual(a);
  });

  it('aborts a running transcription quickly via AbortSignal', async () => {
    const model = await loadWhisperModel(MODELS.tiny, { useGpu: false });
    const controller = new AbortController();
    const firstProgress = deferred<void>();
    const settled = deferred<unknown>();
    model.transcribe(jfk, { signal: controller.signal, onProgress: () => firstProgress.resolve() }).then(
      () => settled.resolve(undefined),
      (err: unknown) => settled.resolve(err),
    );

    await firstProgress.promise; // whisper.cpp is past mel + language detection, now decoding
    const abortedAt = Date.now();
    controller.abort();
    expect(await settled.promise).toBeInstanceOf(JobCancelledError);
    expect(Date.now() - abortedAt).toBeLessThan(500);

    // Already aborted: rejects without starting.
    await expect(model.transcribe(jfk, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(JobCancelledError);
    // free() waits until the aborted native call has wound down, then releases the model.
    await model.free();
    await expect(micro.detectLanguage(jfk)).resolves.toBeDefined();
  });

  it('keeps the event loop responsive while decoding', async () => {
    const model = await loadWhisperModel(MODELS.tiny, { useGpu: false });
    let last = Date.now();
    let maxGap = 0;
    const timer = setInterval(() => {
      const now = Date.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 10);
    try {
      await model.transcribe(jfk, { beamSize: 1, language: 'en' });
    } finally {
      clearInterval(timer);
      await model.free();
    }
    expect(maxGap).toBeLessThan(200);
  });

  it('rejects corrupt, truncated and missing model files without crashing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'whisper-spec-'));
    try {
      const random = path.join(dir, 'random.bin');
      writeFileSync(random, randomBytes(256 * 1024));
      await expect(loadWhisperModel(random, { useGpu: false })).rejects.toThrow(/invalid whisper model.*bad magic/);

      const truncated = path.join(dir, 'truncated.bin');
      writeFileSync(truncated, readFileSync(MODELS.micro).subarray(0, 1_000_000));
      await expect(loadWhisperModel(truncated, { useGpu: false })).rejects.toThrow(/truncated/);

      // Valid magic followed by garbage used to trip a GGML_ASSERT (process abort).
      const garbage = path.join(dir, 'garbage.bin');
      writeFileSync(garbage, Buffer.concat([readFileSync(MODELS.micro).subarray(0, 4), randomBytes(64 * 1024)]));
      await expect(loadWhisperModel(garbage, { useGpu: false })).rejects.toThrow(/invalid whisper model/);

      await expect(loadWhisperModel(path.join(dir, 'missing.bin'), { useGpu: false })).rejects.toThrow(/not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('frees idempotently, waits for in-flight calls and rejects later calls', async () => {
    const model = await loadWhisperModel(MODELS.micro, { useGpu: false });
    const inFlight = model.transcribe(jfk, { language: 'en' });
    const freed = model.free();

    // The running call finishes on its own state before the context goes away.
    expectSaneSegments(await inFlight, JFK_SECONDS);
    await freed;
    await expect(model.free()).resolves.toBeUndefined();

    await expect(model.transcribe(jfk)).rejects.toThrow(/freed/);
    await expect(model.detectLanguage(jfk)).rejects.toThrow(/freed/);
  });

  it('returns the model memory to the OS on free', async () => {
    const model = await loadWhisperModel(MODELS.tiny, { useGpu: false });
    await model.transcribe(jfk.subarray(0, 16000 * 2), { beamSize: 1, language: 'en' });
    const afterLoad = rssBytes();
    await model.free();
    const afterFree = rssBytes();

    const minMeaningful = 16 * 1024 * 1024;
    if (model.sizeBytes < minMeaningful) {
      console.warn(`skipping RSS check: ${MODELS.tiny} is only ${model.sizeBytes} bytes, too small to measure`);
      return;
    }
    expect(afterLoad - afterFree).toBeGreaterThanOrEqual(model.sizeBytes / 2);
  });
});
