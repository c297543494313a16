import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { WORKER_METRICS_TTL_MS, WorkerMetricsKeys, WorkerMetricsSnapshot } from '@app/contracts';
import { API_REDIS } from '../api.tokens';
import { freshEntries } from '../workers/fresh-entries';

const isSnapshot = (value: unknown): value is WorkerMetricsSnapshot =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as WorkerMetricsSnapshot).worker_id === 'string' &&
  typeof (value as WorkerMetricsSnapshot).ts === 'number' &&
  Array.isArray((value as WorkerMetricsSnapshot).metrics);

/** The figures each live worker published through Redis (workers have no HTTP port to scrape). */
@Injectable()
export class WorkerSnapshotsReader {
  constructor(@Inject(API_REDIS) private readonly redis: Redis) {}

  /** Fresh snapshots, one per worker, sorted by worker id (stable output between scrapes); a dead worker's drop out after WORKER_METRICS_TTL_MS. */
  read(): Promise<WorkerMetricsSnapshot[]> {
    return freshEntries(this.redis, WorkerMetricsKeys.snapshots, WORKER_METRICS_TTL_MS, isSnapshot);
  }
}
