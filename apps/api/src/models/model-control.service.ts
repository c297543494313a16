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
  private readonly pending = new Map<string, (reply: ModelControlReply) => void>();

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(API_REDIS) private readonly redis: Redis,
    // shared with /gc, which closes it at shutdown
    @Inject(API_SUBSCRIBER) private readonly subscriber: Redis,
    private readonly workers: WorkerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    const replyPrefix = ModelControlChannels.reply(redisDatabase(this.subscriber), '');
    this.subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
      if (!channel.startsWith(replyPrefix)) return;
      try {
        this.pending.get(channel.slice(replyPrefix.length))?.(JSON.parse(message) as ModelControlReply);
      } catch {
        // a malformed reply is ignored; that worker shows as timeout
      }
    });
    // not awaited: with Redis down the API must still start (ioredis subscribes once it connects)
    this.subscriber.psubscribe(`${replyPrefix}*`).catch(() => undefined);
  }

  async broadcast(action: ModelControlAction, model: string): Promise<ModelControlResponse> {
    assertModelName(model);
    const expected = await this.workers.liveWorkers();
    if (expected.length === 0) throw new ServiceError(ErrorCode.NoWorkers, 'no worker is running (no heartbeat in the last 15 s): nothing to load a model into or unload it from');
    assertKnownModel(model, expected);
    const requestId = randomUUID();
    const timeoutMs = action === 'load' ? Math.max(this.config.gcTimeoutMs, MIN_LOAD_TIMEOUT_MS) : this.config.gcTimeoutMs;
    const known = new Set(expected.map((worker) => worker.worker_id));
    const replies = new Map<string, ModelControlReply>();
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.pending.set(requestId, (reply) => {
        // only workers with a live heartbeat count (one that just started answers, but is not waited for)
        if (!known.has(reply.worker_id)) return;
        replies.set(reply.worker_id, reply);
        if (replies.size === known.size) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const request: ModelControlRequest = { request_id: requestId, action, model };
    try {
      await this.redis.publish(ModelControlChannels.request(redisDatabase(this.redis)), JSON.stringify(request));
      await done;
    } finally {
      this.pending.delete(requestId);
    }
    const missing = expected
      .filter((worker) => !replies.has(worker.worker_id))
      .map((worker): ModelControlWorkerResult => ({ worker_id: worker.worker_id, action, model, status: 'timeout' }));
    const workers = [...replies.values(), ...missing].sort((a, b) => a.worker_id.localeCompare(b.worker_id));
    return { model, action, workers };
  }
}
