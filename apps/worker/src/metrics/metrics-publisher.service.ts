import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { WORKER_METRICS_INTERVAL_MS, WorkerMetricsKeys, WorkerMetricsSnapshot } from '@app/contracts';
import { WORKER_ID } from '../control/worker-identity';
import { WORKER_REDIS } from '../worker.tokens';
import { WorkerMetrics } from './worker-metrics';

/** Soon after a job ends, so a scrape shortly after it sees it; coalesces jobs ending together. */
const AFTER_JOB_DELAY_MS = 200;

/**
 * Workers have no HTTP port: like the heartbeat, this writes the worker's registry as JSON under a
 * key with a TTL, every few seconds and right after each job; the API merges the live ones into
 * GET /metrics. A dead worker's figures disappear with its key; its successor has a new worker_id,
 * so its counters start at 0 as a new series (which Prometheus' rate() handles).
 */
@Injectable()
export class MetricsPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsPublisher.name);
  private timer?: NodeJS.Timeout;
  private soon?: NodeJS.Timeout;
  private stopped = false;
  private failing = false;

  constructor(
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly metrics: WorkerMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.publish();
    this.timer = setInterval(() => void this.publish(), WORKER_METRICS_INTERVAL_MS);
    this.timer.unref();
  }

  /** Publishes within moments (a job just ended). */
  publishSoon(): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.publish();
    }, AFTER_JOB_DELAY_MS);
    this.soon.unref();
  }

  async publish(): Promise<void> {
    if (this.stopped) return;
    try {
      const snapshot: WorkerMetricsSnapshot = {
        worker_id: WORKER_ID,
        ts: Date.now(),
        metrics: (await this.metrics.registry.getMetricsAsJSON()) as unknown as WorkerMetricsSnapshot['metrics'],
      };
      // the reader drops it once it is WORKER_METRICS_TTL_MS old (the worker stopped publishing)
      await this.redis.hset(WorkerMetricsKeys.snapshots, WORKER_ID, JSON.stringify(snapshot));
      if (this.failing) this.logger.log('metrics snapshots reach Redis again');
      this.failing = false;
    } catch (error) {
      // logged once per outage, not every few seconds
      if (!this.failing) this.logger.warn(`metrics snapshot not published: ${(error as Error).message}`);
      this.failing = true;
    }
  }

  /** A last snapshot (the final jobs' counts), left to expire: a scrape in the next seconds still sees them. */
  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.soon);
    await this.publish();
    this.stopped = true;
  }
}
