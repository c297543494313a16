import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import {
  ErrorCode,
  GcReply,
  GcRequest,
  ModelControlChannels,
  ModelControlReply,
  ModelControlRequest,
  RedisChannels,
  ServiceError,
} from '@app/contracts';
import { createRedis, redisDatabase } from '@app/redis';
import { ModelCacheService } from '../models/model-cache.service';
import { WhisperModelsService } from '../models/whisper-models.service';
import { ActiveJobsRegistry } from '../transcription/active-jobs.registry';
import { WORKER_REDIS } from '../worker.tokens';
import { HeartbeatService } from './heartbeat.service';
import { rssMb } from './rss';
import { WORKER_ID } from './worker-identity';

/** Broadcasts every worker must hear: /gc (drop model caches), model load / unload, job cancellation. */
@Injectable()
export class ControlChannelService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ControlChannelService.name);
  private subscriber?: Redis;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly cache: ModelCacheService,
    private readonly activeJobs: ActiveJobsRegistry,
    private readonly heartbeat: HeartbeatService,
    private readonly whisperModels: WhisperModelsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscriber = createRedis(this.config.redisUrl, `worker-control-${WORKER_ID}`);
    const db = redisDatabase(this.subscriber);
    const gcRequest = RedisChannels.gcRequest(db);
    const cancel = RedisChannels.cancel(db);
    const modelRequest = ModelControlChannels.request(db);
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === gcRequest) void this.collectGarbage(message);
      if (channel === modelRequest) void this.controlModel(message).catch((error: Error) => this.logger.warn(`model request failed: ${error.message}`));
      if (channel === cancel && this.activeJobs.abort(message)) this.logger.log(`job ${message} cancelled`);
    });
    await this.subscriber.subscribe(gcRequest, cancel, modelRequest);
  }

  /** POST /models/:name/load and DELETE /models/:name: do it for the whisper model, answer with what happened. */
  private async controlModel(message: string): Promise<void> {
    let request: ModelControlRequest;
    try {
      request = JSON.parse(message) as ModelControlRequest;
      if (typeof request.request_id !== 'string' || typeof request.model !== 'string') throw new Error('request_id or model missing');
      if (request.action !== 'load' && request.action !== 'unload') throw new Error(`unknown action ${String(request.action)}`);
    } catch (error) {
      this.logger.warn(`ignoring malformed model request: ${(error as Error).message}`);
      return;
    }
    const before = rssMb();
    const base = { worker_id: WORKER_ID, action: request.action, model: request.model, rss_mb_before: before };
    let reply: ModelControlReply;
    let pending = 0;
    if (request.action === 'load') {
      const started = Date.now();
      try {
        const { model, alreadyLoaded } = await this.whisperModels.preload(request.model);
        const status = alreadyLoaded ? 'already_loaded' : 'loaded';
        reply = { ...base, status, label: model.label, bytes: model.bytes, load_ms: Date.now() - started, rss_mb_after: rssMb() };
        this.logger.log(`model ${request.model}: ${status} (${model.label}), RSS ${before} → ${reply.rss_mb_after} MB`);
      } catch (error) {
        // the operator sees why on the worker too (e.g. a download that cannot reach the hub)
        const code = error instanceof ServiceError ? error.code : ErrorCode.Internal;
        const reason = (error as Error)?.message ?? String(error);
        this.logger.warn(`model ${request.model} not loaded: ${reason}`);
        reply = { ...base, status: 'error', error: { code, message: reason }, rss_mb_after: rssMb() };
      }
    } else {
      const result = await this.whisperModels.unload(request.model);
      pending = result.pending;
      (globalThis as { gc?: () => void }).gc?.();
      const status = result.unloaded > 0 ? 'unloaded' : 'not_loaded';
      reply = { ...base, status, models_unloaded: result.unloaded, models_pending: result.pending, rss_mb_after: rssMb() };
      this.logger.log(
        `model ${request.model}: ${status}${pending ? ` (${pending} freed when the running job lets go)` : ''}, RSS ${before} → ${reply.rss_mb_after} MB`,
      );
    }
    // the beat first: once the caller has its answer, GET /models already shows the change
    await this.heartbeat.beat();
    await this.redis.publish(ModelControlChannels.reply(redisDatabase(this.redis), request.request_id), JSON.stringify(reply)).catch((error: Error) => {
      this.logger.warn(`model reply not sent: ${error.message}`);
    });
    if (pending > 0) void this.beatWhenDrained();
  }

  private async collectGarbage(message: string): Promise<void> {
    let request: GcRequest;
    try {
      request = JSON.parse(message) as GcRequest;
      if (typeof request.request_id !== 'string') throw new Error('request_id missing');
    } catch (error) {
      this.logger.warn(`ignoring malformed gc request: ${(error as Error).message}`);
      return;
    }
    const before = rssMb();
    // models a running job holds are marked and freed when it lets go (counted in models_pending)
    const { unloaded, pending } = await this.cache.unloadAll();
    // let V8 return what it can too, when the process was started with --expose-gc
    (globalThis as { gc?: () => void }).gc?.();
    const reply: GcReply = { worker_id: WORKER_ID, models_unloaded: unloaded, models_pending: pending, rss_mb_before: before, rss_mb_after: rssMb() };
    this.logger.log(
      `gc: unloaded ${unloaded} model(s)${pending ? ` (${pending} freed when the running job lets go)` : ''}, RSS ${reply.rss_mb_before} → ${reply.rss_mb_after} MB`,
    );
    if (pending > 0) void this.beatWhenDrained();
    // the beat first: once the caller has its answer, GET /models and /health already show the change
    await this.heartbeat.beat();
    await this.redis.publish(RedisChannels.gcReply(redisDatabase(this.redis), request.request_id), JSON.stringify(reply));
  }

  /** The heartbeat shows pending models gone as soon as their jobs have freed them. */
  private async beatWhenDrained(): Promise<void> {
    await this.cache.drained();
    await this.heartbeat.beat();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.quit().catch(() => undefined);
  }
}
