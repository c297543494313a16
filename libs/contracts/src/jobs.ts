import type { Job, Queue } from 'bullmq';
import { JobName } from './queue';
import type { DetectLanguageOptions, LanguageDetectionResult } from './detect-language';
import type { DecodingReport, TranscribeOptions } from './transcribe-options';

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
  /** the submitting request's X-Request-Id: the worker's log lines for the job carry it */
  requestId?: string;
}

/** A detect-language job: the same upload bookkeeping as a transcription, its own options. */
export interface DetectLanguageJobData extends Omit<TranscribeJobData, 'options'> {
  options: DetectLanguageOptions;
}

/**
 * One typed map of every kind of job: producers and consumers import it, no string literals
 * elsewhere. A new kind of background work (webhook delivery, model pre-fetch) is one JobName, one
 * entry in each map and one handler in the worker (the worker refuses to start without it).
 */
export interface JobDataMap {
  [JobName.Transcribe]: TranscribeJobData;
  [JobName.DetectLanguage]: DetectLanguageJobData;
}
export interface JobResultMap {
  [JobName.Transcribe]: TranscriptionResult;
  [JobName.DetectLanguage]: LanguageDetectionResult;
}
export type JobOf<N extends JobName> = { name: N; data: JobDataMap[N] };

/** A BullMQ job of kind N with its data, result and name types from the maps (a union of jobs when N is a union). */
export type QueuedJob<N extends JobName = JobName> = N extends JobName ? Job<JobDataMap[N], JobResultMap[N], N> : never;
/** The queue that carries jobs of kinds N: `add` takes their data, `getJob` and `waitUntilFinished` give their types back. */
export type JobQueue<N extends JobName = JobName> = Queue<JobDataMap[N], JobResultMap[N], N>;

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
  /** the decoding and VAD options as they took effect, and what whisper.cpp was given */
  decoding?: DecodingReport;
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
