/**
 * The contract between the native whisper.cpp binding and the rest of the code.
 * Nothing outside libs/whisper knows about N-API; it only sees these types.
 */
import type { WhisperUsedParams } from '@app/contracts';

/** whisper.cpp's parameters as the addon read them back (one shape, in contracts). */
export type { WhisperUsedParams };

export interface LoadModelOptions {
  /** Use the GPU backend when the addon was built with CUDA. */
  useGpu: boolean;
  /** Flash attention (GPU builds); ignored on CPU. */
  flashAttention?: boolean;
}

export interface DecodeOptions {
  /** Language to decode in (ISO-639-1). Undefined → whisper detects it itself. */
  language?: string;
  /** CPU threads whisper.cpp may use for this call. */
  threads?: number;
  /** Beam size; 1 = greedy. */
  beamSize?: number;
  /** Called (on the JS thread) with 0..100 as whisper.cpp progresses. */
  onProgress?: (percent: number) => void;
  /** Aborting makes whisper.cpp stop at its next abort check; the promise rejects with JobCancelledError. */
  signal?: AbortSignal;
  /** Optional initial prompt text. */
  initialPrompt?: string;
  /** Translate to English (whisper.cpp's translate flag); multilingual models only. */
  translate?: boolean;
  /** Temperatures tried in order (start, start + step, …, ≤ 1): [0] = no fallback. Default whisper-cli's 0, 0.2, …, 1. */
  temperatures?: readonly number[];
  /** Candidates sampled per window at a temperature > 0. Default 5. */
  bestOf?: number;
  /** whisper.cpp's no_speech_thold. Default 0.6. */
  noSpeechThreshold?: number;
  /** Prompt each window with the previous window's text (whisper.cpp's behaviour). Default true. */
  conditionOnPreviousText?: boolean;
}


export interface WhisperToken {
  /** whisper token id */
  id: number;
  /** decoded text of the token (may start with a space = word boundary) */
  text: string;
  /** token probability 0..1 */
  p: number;
  /** log probability */
  plog: number;
  /** start/end in seconds relative to the start of the PCM passed in */
  start: number;
  end: number;
}

export interface WhisperSegment {
  /** seconds relative to the start of the PCM passed in */
  start: number;
  end: number;
  text: string;
  /** mean log probability over the segment's text tokens */
  avgLogprob: number;
  noSpeechProb: number;
  /** text tokens only (special tokens such as [_BEG_], <|en|>, timestamps are excluded) */
  tokens: WhisperToken[];
}

export interface WhisperDecodeResult {
  /** language actually used for decoding */
  language: string;
  segments: WhisperSegment[];
  /** what whisper_full was given (always set by the native model; test doubles may leave it out) */
  params?: WhisperUsedParams;
}

/** Probability per language code, e.g. { en: 0.91, de: 0.03, ... } (sums to ~1). */
export type LanguageProbabilities = Record<string, number>;

/** A loaded whisper.cpp model (whisper_context). Concurrent calls each get their own whisper_state. */
export interface WhisperModelHandle {
  readonly path: string;
  readonly isMultilingual: boolean;
  /** Native memory held by the model weights, bytes (best effort). */
  readonly sizeBytes: number;
  /** Language detection on the first 30 s of pcm (16 kHz mono float32). Rejects for English-only models. */
  detectLanguage(pcm: Float32Array, options?: { threads?: number; offsetSeconds?: number }): Promise<LanguageProbabilities>;
  /** Full transcription of pcm (16 kHz mono float32). */
  transcribe(pcm: Float32Array, options?: DecodeOptions): Promise<WhisperDecodeResult>;
  /** whisper_free. Idempotent. If calls are in flight, frees when they finish. */
  free(): Promise<void>;
}
