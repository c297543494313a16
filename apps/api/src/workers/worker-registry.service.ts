import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { HEARTBEAT_TTL_MS, RedisKeys, WorkerHeartbeat } from '@app/contracts';
import { API_REDIS } from '../api.tokens';

/** Live workers, as their heartbeat keys in Redis describe them. */
@Injectable()
export class WorkerRegistry {
  constructor(@Inject(API_REDIS) private readonly redis: Redis) {}

  async liveWorkers(): Promise<WorkerHeartbeat[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', RedisKeys.workerHeartbeatPattern, 'COUNT', 200);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const now = Date.now();
    const values = await this.redis.mget(...keys);
    return values
      .flatMap((value) => {
        try {
          return value ? [JSON.parse(value) as WorkerHeartbeat] : [];
        } catch {
          return [];
        }
      })
      .filter((worker) => now - worker.ts < HEARTBEAT_TTL_MS)
      .sort((a, b) => a.worker_id.localeCompare(b.worker_id));
  }
}
