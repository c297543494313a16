import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { GcReply, GcRequest, RedisChannels } from '@app/contracts';
import { redisDatabase } from '@app/redis';
import { API_REDIS, API_SUBSCRIBER } from '../api.tokens';
import { WorkerRegistry } from '../workers/worker-registry.service';

export type GcWorkerResult = GcReply | { worker_id: string; status: 'timeout' };

/** POST /gc: ask every live worker over pub/sub to drop its models and collect their answers. */
@Injectable()
export class GcService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly pending = new Map<string, (reply: GcReply) => void>();

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(API_REDIS) private readonly redis: Redis,
    @Inject(API_SUBSCRIBER) private readonly subscriber: Redis,
    private readonly workers: WorkerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    const replyPrefix = RedisChannels.gcReply(redisDatabase(this.subscriber), '');
    this.subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
      const requestId = channel.slice(replyPrefix.length);
      try {
        this.pending.get(requestId)?.(JSON.parse(message) as GcReply);
      } catch {
        // a malformed reply is ignored; that worker shows as timeout
      }
    });
    // not awaited: with Redis down the API must still start (ioredis subscribes once it connects)
    this.subscriber.psubscribe(`${replyPrefix}*`).catch(() => undefined);
  }

  async broadcast(): Promise<GcWorkerResult[]> {
    const expected = await this.workers.liveWorkers();
    const requestId = randomUUID();
    const replies = new Map<string, GcReply>();
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.config.gcTimeoutMs);
      const known = new Set(expected.map((worker) => worker.worker_id));
      this.pending.set(requestId, (reply) => {
        // only workers with a live heartbeat count (a reply from one that just started is ignored)
        if (!known.has(reply.worker_id)) return;
        replies.set(reply.worker_id, reply);
        if (expected.every((worker) => replies.has(worker.worker_id))) {
          clearTimeout(timer);
          resolve();
        }
      });
      if (expected.length === 0) {
        clearTimeout(timer);
        resolve();
      }
    });
    const request: GcRequest = { request_id: requestId };
    await this.redis.publish(RedisChannels.gcRequest(redisDatabase(this.redis)), JSON.stringify(request));
    await done;
    this.pending.delete(requestId);
    const missing = expected
      .filter((worker) => !replies.has(worker.worker_id))
      .map((worker): GcWorkerResult => ({ worker_id: worker.worker_id, status: 'timeout' }));
    return [...replies.values(), ...missing].sort((a, b) => a.worker_id.localeCompare(b.worker_id));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber.quit().catch(() => undefined);
  }
}
