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
  /** whisper models: the model name it was loaded for, e.g. "small" (what GET /models and DELETE /models/:name use) */
  name?: string;
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
  /** model names this worker can serve: files present in MODEL_DIR, and the official names (downloaded on first use) */
  available_models: string[];
  /** of those, the ones whose file is in MODEL_DIR now (absent in older workers' heartbeats) */
  local_models?: string[];
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

/** Model management over pub/sub (POST /models/:name/load, DELETE /models/:name): API → every worker. */
export const ModelControlChannels = {
  request: (db: number) => `tx:${db}:models:request`,
  /** worker → API: one ModelControlReply per worker, on a channel scoped to the request */
  reply: (db: number, requestId: string) => `tx:${db}:models:reply:${requestId}`,
} as const;

export type ModelControlAction = 'load' | 'unload';

export interface ModelControlRequest {
  request_id: string;
  action: ModelControlAction;
  /** a whisper model name: official, or a custom ggml-<name>.bin */
  model: string;
}

/**
 * What one worker did:
 * - load: `loaded` (now in memory), `already_loaded`, or `error` (e.g. model_unavailable: not in
 *   MODEL_DIR and not downloadable from here)
 * - unload: `unloaded` (freed now, or — `pending` — when the running job holding it finishes) or
 *   `not_loaded`
 */
export type ModelControlStatus = 'loaded' | 'already_loaded' | 'unloaded' | 'not_loaded' | 'error';

export interface ModelControlReply {
  worker_id: string;
  action: ModelControlAction;
  model: string;
  status: ModelControlStatus;
  /** as the heartbeat lists it, e.g. "small/int8" (load) */
  label?: string;
  /** size of the loaded model file (load) */
  bytes?: number;
  /** how long the load took, download included */
  load_ms?: number;
  /** unload: copies taken out of the cache (a model is cached once per worker; 0 when not loaded) */
  models_unloaded?: number;
  /** unload: of those, copies a running job still holds (freed when it ends; rss_mb_after does not show them yet) */
  models_pending?: number;
  rss_mb_before: number;
  rss_mb_after: number;
  /** status `error`: why, with the service's error code (unknown_model, model_unavailable, internal_error) */
  error?: { code: string; message: string };
}

/** GET /models: one whisper model the service knows (official, or a custom file a live worker has). */
export interface ModelCatalogEntry {
  name: string;
  /** an official model (downloaded on first use), else a custom ggml-<name>.bin in MODEL_DIR */
  official: boolean;
  /** workers with its file in MODEL_DIR now (usable without a download) */
  local_on: string[];
  /** workers with it in memory, with its size and whether jobs hold it */
  loaded_on: { worker_id: string; label: string; bytes: number; in_use: number; draining: boolean }[];
}

/** GET /models: what one live worker holds in memory (every kind: whisper, VAD, alignment, diarization). */
export interface ModelCatalogWorker {
  worker_id: string;
  default_model: string;
  rss_mb?: number;
  /** sum of loaded_models' bytes */
  loaded_bytes: number;
  loaded_models: LoadedModelInfo[];
}

export interface ModelCatalog {
  models: ModelCatalogEntry[];
  workers: ModelCatalogWorker[];
}

/** POST /models/:name/load, DELETE /models/:name: each live worker's reply, or `timeout` when it did not answer in time. */
export type ModelControlWorkerResult = ModelControlReply | { worker_id: string; action: ModelControlAction; model: string; status: 'timeout' };

export interface ModelControlResponse {
  model: string;
  action: ModelControlAction;
  workers: ModelControlWorkerResult[];
}
