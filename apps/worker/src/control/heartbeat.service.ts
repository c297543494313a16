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

/** Liveness through Redis (workers have no HTTP): a timestamped entry in one hash, refreshed every few seconds. */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private timer?: NodeJS.Timeout;
  /** set on shutdown: a late beat (e.g. after models drained) must not bring the deleted key back */
  private stopped = false;
  private unsubscribeFreed?: () => void;
  private beatQueued = false;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly models: WhisperModelsService,
    private readonly cache: ModelCacheService,
    private readonly activeJobs: ActiveJobsRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // a freed model (idle unload, DELETE /models, a job letting go of a drained one) shows at once
    this.unsubscribeFreed = this.cache.onFreed(() => this.beatSoon());
    await this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
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
    try {
      await this.redis.hset(RedisKeys.workerHeartbeats, WORKER_ID, JSON.stringify(heartbeat));
    } catch (error) {
      this.logger.warn(`heartbeat failed: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribeFreed?.();
    await this.redis.hdel(RedisKeys.workerHeartbeats, WORKER_ID).catch(() => undefined);
  }
}
