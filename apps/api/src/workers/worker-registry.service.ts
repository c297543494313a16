import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { HEARTBEAT_TTL_MS, RedisKeys, WorkerHeartbeat } from '@app/contracts';
import { API_REDIS } from '../api.tokens';
import { freshEntries } from './fresh-entries';

const isHeartbeat = (value: unknown): value is WorkerHeartbeat =>
  typeof value === 'object' && value !== null && typeof (value as WorkerHeartbeat).worker_id === 'string' && typeof (value as WorkerHeartbeat).ts === 'number';

/** How old a read of the heartbeats an upload route may use: 0.5 s on top of their 15 s lifetime. */
export const UPLOAD_ROUTE_WORKERS_MAX_AGE_MS = 500;

/** Live workers, as their heartbeats in Redis describe them. */
@Injectable()
export class WorkerRegistry {
  /** one read shared by the requests that arrive while it runs, reused for `maxAgeMs` by those that allow it */
  private recent?: { at: number; workers: Promise<WorkerHeartbeat[]> };

  constructor(@Inject(API_REDIS) private readonly redis: Redis) {}

  /**
   * The workers whose heartbeat is fresh. `maxAgeMs` > 0 lets a caller take a read at most that old:
   * the upload routes use it (a burst of 200 uploads then costs one Redis read, not 200), while
   * /health, /models and the broadcasts read anew.
   */
  liveWorkers(maxAgeMs = 0): Promise<WorkerHeartbeat[]> {
    const now = Date.now();
    if (this.recent && now - this.recent.at <= maxAgeMs) return this.recent.workers;
    const workers = freshEntries(this.redis, RedisKeys.workerHeartbeats, HEARTBEAT_TTL_MS, isHeartbeat);
    this.recent = { at: now, workers };
    // a failed read, or one that found no worker, is never reused: a worker that just started serves at once
    const forget = () => {
      if (this.recent?.workers === workers) this.recent = undefined;
    };
    workers.then((found) => found.length === 0 && forget(), forget);
    return workers;
  }
}
