import os from 'node:os';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { HEARTBEAT_INTERVAL_MS, OFFICIAL_WHISPER_MODELS, RedisKeys, WorkerHeartbeat } from '@app/contracts';
import { ModelCacheService } from '../models/model-cache.service';
import { WhisperModelsService } from '../models/whisper-models.service';
import { ActiveJobsRegistry } from '../transcription/active-jobs.registry';
import { WORKER_REDIS } from '../worker.tokens';
import { rssMb } from './rss';
import { WORKER_ID } from './worker-identity';

/** A worker that just went idle says so after this long, unless another job started by then. */
export const IDLE_BEAT_DELAY_MS = 100;

/** Liveness through Redis (workers have no HTTP): a timestamped entry in one hash, refreshed every few seconds. */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private timer?: NodeJS.Timeout;
  /** set on shutdown: a late beat (e.g. after models drained) must not bring the deleted key back */
  private stopped = false;
  /** the cache's and the job registry's listeners, dropped at shutdown */
  private readonly unsubscribes: (() => void)[] = [];
  private beatQueued = false;
  /** what the last beat said about busy (GET /health): a change beats at once, or after IDLE_BEAT_DELAY_MS to idle */
  private advertisedBusy = false;
  private idleBeat?: NodeJS.Timeout;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly models: WhisperModelsService,
    private readonly cache: ModelCacheService,
    private readonly activeJobs: ActiveJobsRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // a freed model (idle unload, DELETE /models, a job letting go of a drained one) shows at once, and
    // so does one leaving the cache (evicted: draining while a job holds it)
    this.unsubscribes.push(
      this.cache.onFreed(() => this.beatSoon()),
      this.cache.onRemoved(() => this.beatSoon()),
      this.activeJobs.onChange(() => this.jobsChanged()),
    );
    await this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * Idle → busy beats at once; busy → idle after IDLE_BEAT_DELAY_MS, unless a job started meanwhile:
   * a worker running back-to-back short jobs writes no beat per job, and /health is right within 0.1 s.
   */
  private jobsChanged(): void {
    const busy = this.activeJobs.count > 0;
    clearTimeout(this.idleBeat);
    this.idleBeat = undefined;
    if (busy === this.advertisedBusy) return;
    if (busy) return this.beatSoon();
    this.idleBeat = setTimeout(() => {
      this.idleBeat = undefined;
      if (this.activeJobs.count === 0 && this.advertisedBusy) this.beatSoon();
    }, IDLE_BEAT_DELAY_MS);
    this.idleBeat.unref();
  }

  /** One beat for a burst of changes (several models freed together). */
  private beatSoon(): void {
    if (this.beatQueued) return;
    this.beatQueued = true;
    setImmediate(() => {
      this.beatQueued = false;
      void this.beat();
    });
  }

  async beat(): Promise<void> {
    if (this.stopped) return;
    const local = this.models.availableModels();
    const heartbeat: WorkerHeartbeat = {
      worker_id: WORKER_ID,
      host: os.hostname(),
      pid: process.pid,
      device: this.config.device,
      compute_type: this.config.computeType,
      models: this.cache.loadedLabels(),
      loaded_models: this.cache.loadedModels(),
      rss_mb: rssMb(),
      available_models: [...new Set([...local, ...OFFICIAL_WHISPER_MODELS])],
      local_models: local,
      default_model: this.config.whisperModel,
      busy: this.activeJobs.count > 0,
      active_jobs: this.activeJobs.count,
      ts: Date.now(),
    };
    this.advertisedBusy = heartbeat.busy;
    try {
      await this.redis.hset(RedisKeys.workerHeartbeats, WORKER_ID, JSON.stringify(heartbeat));
    } catch (error) {
      this.logger.warn(`heartbeat failed: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    clearTimeout(this.idleBeat);
    await this.redis.hdel(RedisKeys.workerHeartbeats, WORKER_ID).catch(() => undefined);
  }
}
