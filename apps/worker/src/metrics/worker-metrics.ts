import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { HistogramBuckets, JOB_STAGES, LoadedModelKind, MetricNames } from '@app/contracts';
import { ModelCacheEvent, ModelCacheService } from '../models/model-cache.service';
import { ActiveJobsRegistry } from '../transcription/active-jobs.registry';

const CACHE_KINDS: LoadedModelKind[] = ['whisper', 'vad', 'align', 'diarize'];
const STAGES = new Set<string>(JOB_STAGES);

/** What a finished job tells the metrics (from its result and BullMQ's timestamps). */
export interface FinishedJob {
  kind: string;
  model: string;
  /** seconds of audio in the upload */
  audioSeconds: number;
  /** wall time the worker spent on the job (not its time in the queue) */
  processingSeconds: number;
  timingsMs: Record<string, number>;
}

/**
 * This worker's figures, published to Redis as a snapshot (MetricsPublisher) and exposed by the
 * API's GET /metrics with a worker_id label. Job outcomes are counted here, by the one worker that
 * ran the job, so they are counted once however many API replicas there are.
 */
@Injectable()
export class WorkerMetrics {
  readonly registry = new Registry();

  private readonly jobsCompleted = new Counter({
    name: MetricNames.jobsCompleted,
    help: 'Jobs this worker completed, by kind and model',
    labelNames: ['kind', 'model'] as const,
    registers: [this.registry],
  });

  private readonly jobsFailed = new Counter({
    name: MetricNames.jobsFailed,
    help: 'Jobs that failed on this worker, by kind and error code (cancels are counted in tx_jobs_cancelled_total)',
    labelNames: ['kind', 'code'] as const,
    registers: [this.registry],
  });

  private readonly jobsCancelled = new Counter({
    name: MetricNames.jobsCancelled,
    help: 'Jobs cancelled, by kind and the state they were in: waiting (removed from the queue; counted by the API) or active (stopped by their worker)',
    labelNames: ['kind', 'state'] as const,
    registers: [this.registry],
  });

  private readonly stageDuration = new Histogram({
    name: MetricNames.jobStageDuration,
    help: 'Duration of each stage of completed jobs (queued = time in the queue; load_model includes a download), by kind, stage and model',
    labelNames: ['kind', 'stage', 'model'] as const,
    buckets: [...HistogramBuckets.stageSeconds],
    registers: [this.registry],
  });

  private readonly audioSeconds = new Counter({
    name: MetricNames.audioProcessedSeconds,
    help: 'Seconds of audio in the jobs this worker completed, by kind and model',
    labelNames: ['kind', 'model'] as const,
    registers: [this.registry],
  });

  private readonly processingSeconds = new Counter({
    name: MetricNames.jobProcessingSeconds,
    help: 'Wall seconds this worker spent on completed jobs (queue time excluded), by kind and model; divided by tx_audio_processed_seconds_total it is the real-time factor',
    labelNames: ['kind', 'model'] as const,
    registers: [this.registry],
  });

  private readonly realtimeFactor = new Histogram({
    name: MetricNames.jobRealtimeFactor,
    help: 'Processing seconds per second of audio of each completed job (< 1: faster than real time), by kind and model',
    labelNames: ['kind', 'model'] as const,
    buckets: [...HistogramBuckets.realtimeFactor],
    registers: [this.registry],
  });

  private readonly cacheHits = new Counter({
    name: MetricNames.modelCacheHits,
    help: 'Model requests served from this worker\'s cache (or a load already under way), by cache',
    labelNames: ['cache'] as const,
    registers: [this.registry],
  });

  private readonly cacheMisses = new Counter({
    name: MetricNames.modelCacheMisses,
    help: 'Model requests that had to load the model, by cache',
    labelNames: ['cache'] as const,
    registers: [this.registry],
  });

  private readonly cacheLoads = new Counter({
    name: MetricNames.modelCacheLoads,
    help: 'Model loads (download included when one was needed), by cache and result (ok, error)',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });

  private readonly loadDuration = new Histogram({
    name: MetricNames.modelLoadDuration,
    help: 'Time to load a model (download included when one was needed), by cache',
    labelNames: ['cache'] as const,
    buckets: [...HistogramBuckets.modelLoadSeconds],
    registers: [this.registry],
  });

  private readonly cacheEvictions = new Counter({
    name: MetricNames.modelCacheEvictions,
    help: 'Models taken out of a cache, by cache and reason (evicted: LRU full; cleared: POST /gc or shutdown; removed: DELETE /models/:name; idle: MODEL_IDLE_UNLOAD_S)',
    labelNames: ['cache', 'reason'] as const,
    registers: [this.registry],
  });

  constructor(cache: ModelCacheService, activeJobs: ActiveJobsRegistry) {
    collectDefaultMetrics({ register: this.registry });
    cache.observer = (event) => this.onCacheEvent(event);
    // gauges read when a snapshot is taken
    new Gauge({
      name: MetricNames.modelsLoaded,
      help: 'Models in this worker\'s memory, by cache (draining ones included until freed)',
      labelNames: ['cache'] as const,
      registers: [this.registry],
      collect() {
        const loaded = cache.loadedModels();
        for (const kind of CACHE_KINDS) this.set({ cache: kind }, loaded.filter((model) => model.kind === kind).length);
      },
    });
    new Gauge({
      name: MetricNames.modelLoadedBytes,
      help: 'Bytes of model files loaded in this worker (≈ the weights\' memory), by cache',
      labelNames: ['cache'] as const,
      registers: [this.registry],
      collect() {
        const loaded = cache.loadedModels();
        for (const kind of CACHE_KINDS) this.set({ cache: kind }, loaded.filter((model) => model.kind === kind).reduce((sum, model) => sum + model.bytes, 0));
      },
    });
    new Gauge({
      name: MetricNames.workerActiveJobs,
      help: 'Jobs this worker is running now (> 0: busy)',
      registers: [this.registry],
      collect() {
        this.set(activeJobs.count);
      },
    });
  }

  jobCompleted(job: FinishedJob): void {
    const labels = { kind: job.kind, model: job.model };
    this.jobsCompleted.inc(labels);
    for (const [stage, ms] of Object.entries(job.timingsMs)) {
      if (STAGES.has(stage) && Number.isFinite(ms) && ms >= 0) this.stageDuration.observe({ ...labels, stage }, ms / 1000);
    }
    if (Number.isFinite(job.audioSeconds) && job.audioSeconds > 0) {
      this.audioSeconds.inc(labels, job.audioSeconds);
      this.processingSeconds.inc(labels, job.processingSeconds);
      this.realtimeFactor.observe(labels, job.processingSeconds / job.audioSeconds);
    }
  }

  jobFailed(kind: string, code: string): void {
    this.jobsFailed.inc({ kind, code });
  }

  jobCancelled(kind: string): void {
    this.jobsCancelled.inc({ kind, state: 'active' });
  }

  private onCacheEvent(event: ModelCacheEvent): void {
    const cache = event.kind;
    switch (event.type) {
      case 'hit':
        return void this.cacheHits.inc({ cache });
      case 'miss':
        return void this.cacheMisses.inc({ cache });
      case 'loaded':
        this.cacheLoads.inc({ cache, result: event.ok ? 'ok' : 'error' });
        if (event.ok) this.loadDuration.observe({ cache }, event.seconds);
        return;
      case 'removed':
        return void this.cacheEvictions.inc({ cache, reason: event.reason });
    }
  }
}
