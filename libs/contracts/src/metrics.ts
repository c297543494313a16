/**
 * Prometheus metrics shared by the API and the workers: names, label values, and how a worker's
 * snapshot travels through Redis (workers have no HTTP port; the API's GET /metrics merges the
 * snapshots of live workers under a `worker_id` label).
 */
import { JobName } from './queue';

/** Every metric the service defines (the default process_* and nodejs_* metrics come on top). */
export const MetricNames = {
  // API: HTTP traffic (route = the route pattern, never the raw URL)
  httpRequests: 'tx_http_requests_total',
  httpRequestDuration: 'tx_http_request_duration_seconds',
  // API: jobs this API process put on the queue
  jobsAccepted: 'tx_jobs_accepted_total',
  // worker (jobs it ran) and API (waiting jobs removed by DELETE /jobs/:id)
  jobsCancelled: 'tx_jobs_cancelled_total',
  // worker: outcomes of the jobs it ran, counted once cluster-wide
  jobsCompleted: 'tx_jobs_completed_total',
  jobsFailed: 'tx_jobs_failed_total',
  jobStageDuration: 'tx_job_stage_duration_seconds',
  audioProcessedSeconds: 'tx_audio_processed_seconds_total',
  jobProcessingSeconds: 'tx_job_processing_seconds_total',
  jobRealtimeFactor: 'tx_job_realtime_factor',
  // worker: model caches
  modelCacheHits: 'tx_model_cache_hits_total',
  modelCacheMisses: 'tx_model_cache_misses_total',
  modelCacheLoads: 'tx_model_cache_loads_total',
  modelCacheEvictions: 'tx_model_cache_evictions_total',
  modelLoadDuration: 'tx_model_load_duration_seconds',
  modelsLoaded: 'tx_models_loaded',
  modelLoadedBytes: 'tx_model_loaded_bytes',
  workerActiveJobs: 'tx_worker_active_jobs',
  // API, at scrape time: BullMQ's job counts and the workers' heartbeats
  queueJobs: 'tx_queue_jobs',
  workers: 'tx_workers',
  workersBusy: 'tx_workers_busy',
} as const;

/** A job's `kind` label: the job kinds this service defines, anything else "other" (bounded). */
export function jobKindLabel(name: string | undefined): string {
  return (Object.values(JobName) as string[]).includes(name ?? '') ? (name as string) : 'other';
}

/** The label the API adds to every series a worker published. */
export const WORKER_ID_LABEL = 'worker_id';

/** Queue states GET /metrics reports (BullMQ getJobCounts). */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'] as const;

/**
 * Stage names of a job's `timings_ms` that become `stage` label values; any other key is not
 * reported, so the label stays bounded. `load_model` includes a model download when one happens.
 */
export const JOB_STAGES = ['queued', 'download', 'decode', 'vad', 'load_model', 'detect_language', 'transcribe', 'align', 'diarize'] as const;
export type JobStageLabel = (typeof JOB_STAGES)[number];

/** Status label of a request the client closed before its answer was sent (nginx's convention). */
export const CLIENT_CLOSED_STATUS = '499';
/** Route label of a request no route matched, or one answered before routing (body checks, timeouts). */
export const UNMATCHED_ROUTE = 'unmatched';

export const HistogramBuckets = {
  /** HTTP latency: sync transcriptions may take minutes */
  httpSeconds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
  /** one stage of a job */
  stageSeconds: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
  /** processing seconds per audio second: < 1 is faster than real time */
  realtimeFactor: [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5, 10],
  modelLoadSeconds: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
} as const;

/** How often a worker publishes its snapshot, and how long one stays readable without a refresh. */
export const WORKER_METRICS_INTERVAL_MS = 5_000;
export const WORKER_METRICS_TTL_MS = 15_000;

export const WorkerMetricsKeys = {
  /** one hash, field = worker id, value = JSON WorkerMetricsSnapshot (stale after WORKER_METRICS_TTL_MS; readers remove it) */
  snapshots: 'tx:metrics:workers',
} as const;

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

/** One sample, as prom-client's getMetricsAsJSON() writes it (histograms: metricName is _bucket, _sum or _count). */
export interface MetricSample {
  /** null: NaN written through JSON (e.g. an event-loop figure not measured yet) */
  value: number | null;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** One metric family of a registry, prom-client's JSON shape. */
export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  values: MetricSample[];
}

/** What a worker writes under its id in WorkerMetricsKeys.snapshots. */
export interface WorkerMetricsSnapshot {
  worker_id: string;
  /** epoch ms */
  ts: number;
  metrics: MetricFamily[];
}
