import { Device } from './models';

/** What a worker writes to its heartbeat key; /health and model-name validation read it. */
export interface WorkerHeartbeat {
  worker_id: string;
  host: string;
  pid: number;
  device: Device;
  compute_type: string;
  /** cached models, e.g. ["synthetic-tiny/int8"] */
  models: string[];
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
  models_unloaded: number;
  rss_mb_before: number;
  rss_mb_after: number;
}
