import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { WORKER_METRICS_TTL_MS, WorkerMetricsKeys, WorkerMetricsSnapshot } from '@app/contracts';
import { API_REDIS } from '../api.tokens';

/** The figures each live worker published through Redis (workers have no HTTP port to scrape). */
@Injectable()
export class WorkerSnapshotsReader {
  constructor(@Inject(API_REDIS) private readonly redis: Redis) {}

  /** Fresh snapshots, one per worker, sorted by worker id (stable output between scrapes). */
  async read(): Promise<WorkerMetricsSnapshot[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', WorkerMetricsKeys.snapshotPattern, 'COUNT', 200);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const now = Date.now();
    const snapshots = (await this.redis.mget(...keys)).flatMap((value) => {
      try {
        const snapshot = value ? (JSON.parse(value) as WorkerMetricsSnapshot) : undefined;
        return snapshot && typeof snapshot.worker_id === 'string' && Array.isArray(snapshot.metrics) ? [snapshot] : [];
      } catch {
        return [];
      }
    });
    // the key's TTL already drops a dead worker's figures; the timestamp guards against clock-less copies
    return snapshots.filter((snapshot) => now - snapshot.ts < WORKER_METRICS_TTL_MS).sort((a, b) => a.worker_id.localeCompare(b.worker_id));
  }
}
