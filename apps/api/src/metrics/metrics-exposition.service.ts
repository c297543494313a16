import { Injectable, Logger } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { MetricFamily, QUEUE_STATES, TRANSCRIBE_QUEUE, WORKER_ID_LABEL } from '@app/contracts';
import { withTimeout } from '../common/with-timeout';
import { WorkerRegistry } from '../workers/worker-registry.service';
import { ApiMetrics } from './api-metrics';
import { mergeFamilies, renderFamilies, withLabel } from './prometheus-text';
import { WorkerSnapshotsReader } from './worker-snapshots.reader';

/** A scrape must answer even with Redis gone: what Redis holds is then left out, not waited for. */
const REDIS_READ_TIMEOUT_MS = 2_000;

/** GET /metrics's body: this process's registry, the scrape-time gauges, every live worker's snapshot. */
@Injectable()
export class MetricsExposition {
  private readonly logger = new Logger(MetricsExposition.name);

  constructor(
    private readonly metrics: ApiMetrics,
    @InjectQueue(TRANSCRIBE_QUEUE) private readonly queue: Queue,
    private readonly registry: WorkerRegistry,
    private readonly snapshots: WorkerSnapshotsReader,
  ) {}

  async render(): Promise<string> {
    const [, workerSnapshots] = await Promise.all([this.readScrapeGauges(), this.readSnapshots()]);
    const own = await this.metrics.registry.getMetricsAsJSON();
    const perWorker = workerSnapshots.map((snapshot) => withLabel(snapshot.metrics, WORKER_ID_LABEL, snapshot.worker_id));
    // prom-client's JSON is the MetricFamily shape (its types are wider: label values may be undefined)
    return renderFamilies(mergeFamilies([own as unknown as MetricFamily[], ...perWorker]));
  }

  /** Queue depth and worker counts, as they are now. */
  private async readScrapeGauges(): Promise<void> {
    await Promise.all([
      this.timed('queue depth', this.queue.getJobCounts(...QUEUE_STATES)).then((counts) => {
        this.metrics.queueJobs.reset();
        if (counts) for (const state of QUEUE_STATES) this.metrics.queueJobs.set({ state }, counts[state] ?? 0);
      }),
      this.timed('worker heartbeats', this.registry.liveWorkers()).then((workers) => {
        this.metrics.workers.reset();
        this.metrics.workersBusy.reset();
        if (!workers) return;
        this.metrics.workers.set(workers.length);
        this.metrics.workersBusy.set(workers.filter((worker) => worker.busy).length);
      }),
    ]);
  }

  private async readSnapshots() {
    return (await this.timed('worker snapshots', this.snapshots.read())) ?? [];
  }

  /** The value, or undefined (logged) when Redis failed or was too slow: the scrape goes on without it. */
  private async timed<T>(what: string, promise: Promise<T>): Promise<T | undefined> {
    try {
      return await withTimeout(promise, REDIS_READ_TIMEOUT_MS, () => new Error('Redis did not answer in time'));
    } catch (error) {
      this.logger.warn(`/metrics without ${what}: ${(error as Error).message}`);
      return undefined;
    }
  }
}
