import { JobName } from './queue';

/** Options the API validated; the worker validates them again because Redis is shared. */
export interface TranscribeOptions {
  batchSize: number;
  /** Silero VAD cut & merge before whisper (default true); false decodes the whole file in one pass */
  vad: boolean;
  diarize: boolean;
  alignWords: boolean;
  /** undefined → the worker's WHISPER_MODEL */
  whisperModel?: string;
  minSpeakers?: number;
  maxSpeakers?: number;
  /** undefined → any language */
  allowedLanguages?: string[];
}

/** Job data: small JSON only. The audio bytes live under RedisKeys.audio(jobId). */
export interface TranscribeJobData {
  options: TranscribeOptions;
  /** original upload name and size, for logs */
  fileName?: string;
  sizeBytes: number;
  /** epoch ms when the API accepted the upload (queue time = start - this) */
  acceptedAt: number;
  /** who submitted it: a SHA-256 digest of the API key, or "anonymous" when the API has no keys */
  owner?: string;
}

/** One typed map of every job: producers and consumers import it, no string literals elsewhere. */
export interface JobDataMap {
  [JobName.Transcribe]: TranscribeJobData;
}
export interface JobResultMap {
  [JobName.Transcribe]: TranscriptionResult;
}
export type JobOf<N extends JobName> = { name: N; data: JobDataMap[N] };

export interface WordResult {
  word: string;
  start: number;
  end: number;
  score: number;
  speaker?: string;
  /** no diarization turn overlapped this word: the nearest turn's speaker was used */
  speaker_nearest?: boolean;
  interpolated?: boolean;
}

export interface SegmentResult {
  id: number;
  start: number;
  end: number;
  text: string;
  speaker?: string;
  avg_logprob: number;
  no_speech_prob: number;
  words: WordResult[];
}

export interface StageStatus {
  status: 'ok' | 'unavailable';
  model?: string;
  reason?: string;
}

export interface AlignmentStatus extends StageStatus {
  /** words placed by forced alignment / words that got interpolated times */
  words_aligned?: number;
  words_interpolated?: number;
}

export interface DiarizationStatus extends StageStatus {
  turns?: { start: number; end: number; speaker: string }[];
}

export interface TranscriptionResult {
  job_id: string;
  language: string;
  language_probability: number;
  duration: number;
  model: string;
  segments: SegmentResult[];
  word_segments: WordResult[];
  alignment?: AlignmentStatus;
  diarization?: DiarizationStatus;
  speakers?: { id: string; speech_seconds: number }[];
  timings_ms: Record<string, number>;
}

/** A model file arriving for the job (stage downloading_model). */
export interface ModelDownloadProgress {
  /** the file's name in MODEL_DIR */
  file: string;
  received_bytes: number;
  /** absent when the hub sends no length */
  total_bytes?: number;
  percent?: number;
}

/** Progress object stored with job.updateProgress (GET /jobs/:id reads it). */
export interface JobProgress {
  percent: number;
  stage: JobStage;
  /** while stage is downloading_model */
  download?: ModelDownloadProgress;
}
export type JobStage =
  | 'queued'
  | 'load_model'
  | 'downloading_model'
  | 'decode'
  | 'vad'
  | 'detect_language'
  | 'transcribe'
  | 'align'
  | 'diarize'
  | 'assemble'
  | 'done';

/** Status as the HTTP API reports it. */
export type PublicJobStatus = 'queued' | 'active' | 'completed' | 'failed' | 'cancelled';
