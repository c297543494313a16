import type { ModelDownloadProgress, PublicJobStatus, TranscriptionResult } from './jobs';
import type { LoadedModelInfo } from './workers';

/**
 * Bodies the HTTP API answers with (besides TranscriptionResult in jobs.ts and ErrorBody in
 * errors.ts): one home for the public shapes, so the OpenAPI document and the clients read the
 * same types the controllers return.
 */

/** 202 from POST /transcribe: async=true, or a sync wait past SYNC_TIMEOUT_S. */
export interface AcceptedBody {
  job_id: string;
  status: 'queued';
  status_url: string;
}

/** GET /jobs/:id and DELETE /jobs/:id. */
export interface JobView {
  job_id: string;
  status: PublicJobStatus;
  progress: number;
  stage: string;
  /** while stage is downloading_model: the model file arriving for this job */
  download?: ModelDownloadProgress;
  result?: TranscriptionResult;
  error?: { code: string; message: string; field?: string; error_id?: string };
}

/** One live worker in GET /health. */
export interface HealthWorker {
  worker_id: string;
  device: string;
  models: string[];
  /** every model in the worker's memory with its size (absent for workers that predate it) */
  loaded_models?: LoadedModelInfo[];
  rss_mb?: number;
  busy: boolean;
  last_seen_ms: number;
}

/** GET /health for a caller with a key (or when the API has none); 503 with the same shape when not ready. */
export interface HealthBody {
  status: 'ok' | 'unavailable';
  redis: 'up' | 'down';
  workers: HealthWorker[];
  reason?: string;
}

/** What a caller without a valid key sees when API_KEYS is set: no worker ids, no model names. */
export type PublicHealthBody = Pick<HealthBody, 'status'>;
