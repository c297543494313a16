import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { GcReply, GcRequest, RedisChannels } from '@app/contracts';
import { redisDatabase } from '@app/redis';
import { API_REDIS, API_SUBSCRIBER } from '../api.tokens';
import { WorkerRegistry } from '../workers/worker-registry.service';
import { WorkerReplies } from '../workers/worker-replies';

export type GcWorkerResult = GcReply | { worker_id: string; status: 'timeout' };

/** POST /gc: ask every live worker over pub/sub to drop its models and collect their answers. */
@Injectable()
export class GcService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly replies: WorkerReplies<GcReply>;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(API_REDIS) private readonly redis: Redis,
    @Inject(API_SUBSCRIBER) private readonly subscriber: Redis,
    private readonly workers: WorkerRegistry,
  ) {
    this.replies = new WorkerReplies<GcReply>(subscriber, RedisChannels.gcReply(redisDatabase(subscriber), ''));
  }

  onApplicationBootstrap(): void {
    this.replies.listen();
  }

  async broadcast(): Promise<GcWorkerResult[]> {
    const expected = await this.workers.liveWorkers();
    const request: GcRequest = { request_id: randomUUID() };
    const { replies, missing } = await this.replies.collect(request.request_id, expected, this.config.gcTimeoutMs, () =>
      this.redis.publish(RedisChannels.gcRequest(redisDatabase(this.redis)), JSON.stringify(request)),
    );
    const timedOut = missing.map((worker_id): GcWorkerResult => ({ worker_id, status: 'timeout' }));
    return [...replies, ...timedOut].sort((a, b) => a.worker_id.localeCompare(b.worker_id));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber.quit().catch(() => undefined);
  }
}
