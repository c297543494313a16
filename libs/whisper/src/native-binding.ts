/**
 * Loads the whisper.cpp N-API addon built by scripts/build-native.js and describes its raw shape.
 * Only whisper-model.ts should use this; everything else codes against whisper-types.ts.
 */
import { existsSync } from 'fs';
import type { WhisperUsedParams } from '@app/contracts';
import * as path from 'path';

/** Times are whisper.cpp centiseconds relative to the start of the PCM passed in. */
export interface RawWhisperToken {
  id: number;
  text: string;
  p: number;
  plog: number;
  t0: number;
  t1: number;
}

export interface RawWhisperSegment {
  t0: number;
  t1: number;
  text: string;
  noSpeechProb: number;
  avgLogprob: number;
  tokens: RawWhisperToken[];
}

/** The whisper_full_params the addon passed to whisper_full, read back from the struct (one shape, in contracts). */
export type RawUsedParams = WhisperUsedParams;

export interface RawDecodeResult {
  language: string;
  segments: RawWhisperSegment[];
  params: RawUsedParams;
}

export interface RawTranscribeOptions {
  threads: number;
  /** 1 = greedy, up to 8. */
  beamSize: number;
  /** Language code or full name; undefined or "auto" = detect. */
  language?: string;
  initialPrompt?: string;
  /** whisper.cpp's translate flag (to English); throws on English-only models. Default false. */
  translate?: boolean;
  /** First temperature, 0..1. Default 0. */
  temperature?: number;
  /** Fallback step, 0..1 (0: no fallback). Default 0.2 (whisper-cli). */
  temperatureInc?: number;
  /** Candidates sampled at temperature > 0, 1..8. Default 5. */
  bestOf?: number;
  /** no_speech_thold, 0..1. Default 0.6. */
  noSpeechThreshold?: number;
  /** false: no window is prompted with the previous one's text (only the initial prompt). Default true. */
  conditionOnPreviousText?: boolean;
  /** Called on the JS thread; values may arrive after the promise settled. */
  onProgress?: (percent: number) => void;
}

export interface RawTranscription {
  /** Rejects with `code === abortedErrorCode` once abort() took effect. */
  promise: Promise<RawDecodeResult>;
  /** Makes whisper.cpp stop at its next abort check. Safe to call at any time. */
  abort(): void;
}

export interface RawWhisperModel {
  readonly isMultilingual: boolean;
  /** Size of the model file in bytes (≈ weight memory). */
  readonly sizeBytes: number;
  /** Languages the model has tokens for (1 for English-only models). */
  readonly languageCount: number;
  readonly isFreed: boolean;
  /** Throws synchronously on bad arguments, on English-only models, and after free(). */
  detectLanguage(pcm: Float32Array, threads: number, offsetMs: number): Promise<Record<string, number>>;
  /** Throws synchronously on bad arguments, unsupported languages, and after free(). */
  transcribe(pcm: Float32Array, options: RawTranscribeOptions): RawTranscription;
  /** Idempotent (same promise every time); waits for in-flight calls. */
  free(): Promise<void>;
}

export interface RawLoadOptions {
  useGpu: boolean;
  flashAttn: boolean;
  gpuDevice?: number;
}

export interface WhisperAddon {
  loadModel(modelPath: string, options: RawLoadOptions): Promise<RawWhisperModel>;
  languages(): string[];
  systemInfo(): string;
  version(): string;
  /** GPU devices compiled in and present; empty on CPU-only builds. */
  gpuDevices(): string[];
  readonly abortedErrorCode: string;
  readonly freedErrorCode: string;
}

export const ADDON_FILE_NAME = 'whisper_addon.node';
/** Relative to the repository root; written by scripts/build-native.js. */
export const ADDON_RELATIVE_PATH = path.join('build', 'native', ADDON_FILE_NAME);

let cached: WhisperAddon | undefined;

/**
 * Candidate paths, most specific first: an explicit override, then build/native in any
 * ancestor of this file (covers ts-jest from libs/ and compiled code under dist/), then the cwd.
 */
export function addonCandidates(): string[] {
  const candidates: string[] = [];
  const override = process.env.WHISPER_ADDON_PATH;
  if (override) candidates.push(path.resolve(override));
  let dir = __dirname;
  for (;;) {
    candidates.push(path.join(dir, ADDON_RELATIVE_PATH));
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  candidates.push(path.resolve(ADDON_RELATIVE_PATH));
  return [...new Set(candidates)];
}

export function findAddonPath(): string | undefined {
  return addonCandidates().find((candidate) => existsSync(candidate));
}

export function loadNativeBinding(): WhisperAddon {
  if (cached) return cached;
  const addonPath = findAddonPath();
  if (!addonPath) {
    throw new Error(
      `whisper native addon (${ADDON_FILE_NAME}) not found; run npm run build:native. Looked in: ${addonCandidates().join(', ')}`,
    );
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require(addonPath) as WhisperAddon;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`failed to load whisper native addon ${addonPath} (${reason}); run npm run build:native`);
  }
  return cached;
}
