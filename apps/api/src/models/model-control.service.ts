import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import Redis from 'ioredis';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import {
  ErrorCode,
  ModelControlAction,
  ModelControlChannels,
  ModelControlReply,
  ModelControlRequest,
  ModelControlResponse,
  ModelControlWorkerResult,
  ServiceError,
} from '@app/contracts';
import { redisDatabase } from '@app/redis';
import { API_REDIS, API_SUBSCRIBER } from '../api.tokens';
import { WorkerRegistry } from '../workers/worker-registry.service';
import { WorkerReplies } from '../workers/worker-replies';
import { assertKnownModel, assertModelName } from './model-catalog';

/** A load may download and read a large file: it gets at least a minute before a worker shows as `timeout`. */
const MIN_LOAD_TIMEOUT_MS = 60_000;

/**
 * POST /models/:name/load and DELETE /models/:name: one request over pub/sub to every worker, each
 * live worker's reply collected (as /gc does); a worker that does not answer in time shows as
 * `timeout` (a load goes on there, and its heartbeat shows the model once it is in).
 */
@Injectable()
export class ModelControlService implements OnApplicationBootstrap {
  private readonly replies: WorkerReplies<ModelControlReply>;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(API_REDIS) private readonly redis: Redis,
    // shared with /gc, which closes it at shutdown
    @Inject(API_SUBSCRIBER) subscriber: Redis,
    private readonly workers: WorkerRegistry,
  ) {
    this.replies = new WorkerReplies<ModelControlReply>(subscriber, ModelControlChannels.reply(redisDatabase(subscriber), ''));
  }

  onApplicationBootstrap(): void {
    this.replies.listen();
  }

  async broadcast(action: ModelControlAction, model: string): Promise<ModelControlResponse> {
    assertModelName(model);
    const expected = await this.workers.liveWorkers();
    if (expected.length === 0) throw new ServiceError(ErrorCode.NoWorkers, 'no worker is running (no heartbeat in the last 15 s): nothing to load a model into or unload it from');
    assertKnownModel(model, expected);
    const timeoutMs = action === 'load' ? Math.max(this.config.gcTimeoutMs, MIN_LOAD_TIMEOUT_MS) : this.config.gcTimeoutMs;
    const request: ModelControlRequest = { request_id: randomUUID(), action, model };
    const { replies, missing } = await this.replies.collect(request.request_id, expected, timeoutMs, () =>
      this.redis.publish(ModelControlChannels.request(redisDatabase(this.redis)), JSON.stringify(request)),
    );
    const timedOut = missing.map((worker_id): ModelControlWorkerResult => ({ worker_id, action, model, status: 'timeout' }));
    const workers = [...replies, ...timedOut].sort((a, b) => a.worker_id.localeCompare(b.worker_id));
    return { model, action, workers };
  }
}
