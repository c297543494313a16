import { Device } from './models';

/** The model caches of a worker: whisper (MODEL_CACHE_SIZE), alignment (ALIGN_CACHE_SIZE), VAD and diarization (one each). */
export type LoadedModelKind = 'whisper' | 'vad' | 'align' | 'diarize';

/** One model in a worker's memory, as its heartbeat reports it. */
export interface LoadedModelInfo {
  /** as in `models`, e.g. "small/int8", "vad/silero", "align:en/wav2vec2-base-960h", "diarize/wespeaker…" */
  label: string;
  kind: LoadedModelKind;
  /** size of the model file(s) loaded, ≈ the weights' memory */
  bytes: number;
  /** jobs holding it right now */
  in_use: number;
  /** out of the cache (evicted or /gc) and freed as soon as the jobs holding it finish */
  draining: boolean;
}

/** What a worker writes to its heartbeat key; /health and model-name validation read it. */
export interface WorkerHeartbeat {
  worker_id: string;
  host: string;
  pid: number;
  device: Device;
  compute_type: string;
  /** cached models, e.g. ["synthetic-tiny/int8"] (draining ones not listed) */
  models: string[];
  /** every model in memory with its kind and size, draining ones included (absent in older workers' heartbeats) */
  loaded_models?: LoadedModelInfo[];
  /** the worker process's resident set size in MB (absent in older workers' heartbeats) */
  rss_mb?: number;
  /** model names this worker can serve without downloading (files present in MODEL_DIR) */
  available_models: string[];
  default_model: string;
  busy: boolean;
  active_jobs: number;
  /** epoch ms */
  ts: number;
}

export interface GcRequest {
  request_id: string;
}

export interface GcReply {
  worker_id: string;
  /** models taken out of the caches: freed now, or when the running job holding them finishes */
  models_unloaded: number;
  /** of models_unloaded, those still held by a running job (freed when it releases them; rss_mb_after does not show them yet) */
  models_pending: number;
  rss_mb_before: number;
  rss_mb_after: number;
}
