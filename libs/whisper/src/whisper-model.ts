/**
 * WhisperModelHandle on top of the native addon: option defaults, seconds instead of
 * centiseconds, AbortSignal wiring and typed errors.
 */
import { statSync } from 'fs';
import { open } from 'fs/promises';
import * as os from 'os';
import * as path from 'path';

import { JobCancelledError } from '@app/contracts';

import { loadNativeBinding, RawDecodeResult, RawWhisperModel, RawWhisperSegment, WhisperAddon } from './native-binding';
import {
  DecodeOptions,
  LanguageProbabilities,
  LoadModelOptions,
  WhisperDecodeResult,
  WhisperModelHandle,
  WhisperSegment,
} from './whisper-types';

export const WHISPER_SAMPLE_RATE = 16000;
/** whisper-cli's default, so a benchmark against it compares like with like. */
export const DEFAULT_BEAM_SIZE = 5;

export function defaultThreads(): number {
  return Math.max(1, os.availableParallelism());
}

/** All language codes whisper.cpp knows (a given model may support fewer). */
export function whisperLanguages(): string[] {
  return loadNativeBinding().languages();
}

/** whisper.cpp / ggml build and CPU feature summary. */
export function whisperSystemInfo(): string {
  return loadNativeBinding().systemInfo();
}

/** GPU devices the addon was built for and can see; empty on CPU-only builds. */
export function whisperGpuDevices(): string[] {
  return loadNativeBinding().gpuDevices();
}

/** whisper.cpp's abort, as the one cancellation type (the worker reports it as job_cancelled). */
function decodeAborted(): JobCancelledError {
  return new JobCancelledError('whisper.cpp decoding was aborted');
}

const GGML_FILE_MAGIC = 0x67676d6c;
/** whisper.cpp's rule (whisper_vocab::is_multilingual): the language tokens make the vocabulary this large. */
const MULTILINGUAL_VOCAB = 51865;

/**
 * Whether a ggml whisper model file is multilingual, from its header alone (8 bytes read, nothing
 * loaded): what `isMultilingual` of the loaded model will say. Undefined when the file is missing
 * or not a ggml whisper model (loading it says why).
 */
export async function readModelIsMultilingual(modelPath: string): Promise<boolean | undefined> {
  // a silent job asks on every run: one stat (microseconds) instead of open + read + close on the
  // thread pool; the file's identity (inode, size, mtime) says whether the answer still holds
  let identity: string;
  try {
    const stats = statSync(modelPath);
    identity = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  } catch {
    return undefined;
  }
  const known = multilingualByFile.get(modelPath);
  if (known?.identity === identity) return known.multilingual;
  const multilingual = await readHeaderIsMultilingual(modelPath);
  if (multilingual !== undefined) multilingualByFile.set(modelPath, { identity, multilingual });
  return multilingual;
}

/** readModelIsMultilingual's answers by path, with the identity of the file they were read from. */
const multilingualByFile = new Map<string, { identity: string; multilingual: boolean }>();

async function readHeaderIsMultilingual(modelPath: string): Promise<boolean | undefined> {
  let file;
  try {
    file = await open(modelPath, 'r');
    const header = Buffer.alloc(8);
    const { bytesRead } = await file.read(header, 0, header.length, 0);
    if (bytesRead < header.length || header.readUInt32LE(0) !== GGML_FILE_MAGIC) return undefined;
    return header.readInt32LE(4) >= MULTILINGUAL_VOCAB;
  } catch {
    return undefined;
  } finally {
    await file?.close();
  }
}

export async function loadWhisperModel(modelPath: string, options: LoadModelOptions): Promise<WhisperModelHandle> {
  const addon = loadNativeBinding();
  const absolutePath = path.resolve(modelPath);
  const raw = await addon.loadModel(absolutePath, {
    useGpu: options.useGpu,
    // whisper-cli enables flash attention by default (CPU included); match it.
    flashAttn: options.flashAttention ?? true,
  });
  return new NativeWhisperModel(addon, absolutePath, raw);
}

class NativeWhisperModel implements WhisperModelHandle {
  readonly isMultilingual: boolean;
  readonly sizeBytes: number;

  constructor(
    private readonly addon: WhisperAddon,
    readonly path: string,
    private readonly raw: RawWhisperModel,
  ) {
    this.isMultilingual = raw.isMultilingual;
    this.sizeBytes = raw.sizeBytes;
  }

  /** Languages this model has tokens for (1 for English-only models). */
  get languageCount(): number {
    return this.raw.languageCount;
  }

  async detectLanguage(
    pcm: Float32Array,
    options: { threads?: number; offsetSeconds?: number } = {},
  ): Promise<LanguageProbabilities> {
    const offsetMs = Math.round((options.offsetSeconds ?? 0) * 1000);
    return this.raw.detectLanguage(pcm, options.threads ?? defaultThreads(), offsetMs);
  }

  async transcribe(pcm: Float32Array, options: DecodeOptions = {}): Promise<WhisperDecodeResult> {
    const { signal } = options;
    if (signal?.aborted) throw decodeAborted();

    const progress = new ProgressRelay(options.onProgress);
    const run = this.raw.transcribe(pcm, {
      threads: options.threads ?? defaultThreads(),
      beamSize: options.beamSize ?? DEFAULT_BEAM_SIZE,
      language: options.language,
      initialPrompt: options.initialPrompt,
      ...temperatureSchedule(options.temperatures),
      ...(options.translate !== undefined ? { translate: options.translate } : {}),
      ...(options.bestOf !== undefined ? { bestOf: options.bestOf } : {}),
      ...(options.noSpeechThreshold !== undefined ? { noSpeechThreshold: options.noSpeechThreshold } : {}),
      ...(options.conditionOnPreviousText !== undefined ? { conditionOnPreviousText: options.conditionOnPreviousText } : {}),
      onProgress: options.onProgress ? (percent) => progress.report(percent) : undefined,
    });
    // whisper.cpp only checks for abort between encoder passes and decoder steps (an
    // encoder pass of a large model on CPU takes seconds), so reject right away; the
    // native call winds down on its own and free() still waits for it.
    let onAbort = (): void => undefined;
    const abortion = new Promise<never>((_, reject) => {
      onAbort = () => {
        run.abort();
        reject(decodeAborted());
      };
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await Promise.race([run.promise, abortion]);
      progress.report(100);
      return toDecodeResult(result, pcm.length / WHISPER_SAMPLE_RATE);
    } catch (err) {
      throw this.isAborted(err) ? decodeAborted() : err;
    } finally {
      progress.close();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  free(): Promise<void> {
    return this.raw.free();
  }

  private isAborted(err: unknown): boolean {
    return (err as { code?: unknown } | null)?.code === this.addon.abortedErrorCode;
  }
}

/**
 * Forwards strictly increasing percentages and nothing after the call settled: native
 * updates are queued to the JS thread and can arrive out of order with the result.
 */
class ProgressRelay {
  private last = -1;
  private closed = false;

  constructor(private readonly listener?: (percent: number) => void) {}

  report(percent: number): void {
    const value = Math.min(100, Math.max(0, Math.round(percent)));
    if (this.closed || !this.listener || value <= this.last) return;
    this.last = value;
    try {
      this.listener(value);
    } catch {
      // Progress is advisory; a failing listener must not fail the transcription.
    }
  }

  close(): void {
    this.closed = true;
  }
}

/**
 * A temperature ladder → whisper.cpp's start and step (it tries start, start + step, … while ≤ 1).
 * The option table only lets evenly spaced ladders that end at the last step ≤ 1 through; a
 * ladder whisper.cpp cannot run is a programming error here.
 */
export function temperatureSchedule(temperatures: readonly number[] | undefined): { temperature?: number; temperatureInc?: number } {
  if (temperatures === undefined) return {};
  if (temperatures.length === 0) throw new RangeError('temperatures must not be empty');
  const step = temperatures.length > 1 ? temperatures[1] - temperatures[0] : 0;
  const expected = temperatures.map((_, i) => temperatures[0] + i * step);
  const last = temperatures[temperatures.length - 1];
  if (expected.some((t, i) => Math.abs(t - temperatures[i]) > 1e-6) || (step > 0 && last + step <= 1 + 1e-6)) {
    throw new RangeError(`temperatures ${temperatures.join(',')} are not a start + step ladder up to 1`);
  }
  return { temperature: temperatures[0], temperatureInc: step };
}

function toDecodeResult(raw: RawDecodeResult, durationSeconds: number): WhisperDecodeResult {
  return {
    language: raw.language,
    segments: raw.segments.map((segment) => toSegment(segment, durationSeconds)),
    params: raw.params,
  };
}

/**
 * whisper.cpp reports what the model predicted, which can run past the end of the audio
 * (a 30 s window over 11 s of speech). Clamp to the audio so callers get real positions.
 */
function toSegment(raw: RawWhisperSegment, durationSeconds: number): WhisperSegment {
  const start = clamp(raw.t0 / 100, 0, durationSeconds);
  const end = clamp(raw.t1 / 100, start, durationSeconds);
  return {
    start,
    end,
    text: raw.text,
    avgLogprob: raw.avgLogprob,
    noSpeechProb: raw.noSpeechProb,
    tokens: raw.tokens.map((token) => {
      const tokenStart = clamp(token.t0 / 100, start, end);
      return {
        id: token.id,
        text: token.text,
        p: token.p,
        plog: token.plog,
        start: tokenStart,
        end: clamp(token.t1 / 100, tokenStart, end),
      };
    }),
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
