import { Provider } from '@nestjs/common';
import { ApiMetrics } from './api-metrics';
import { JobCountingListener } from './job-counting.listener';
import { MetricsExposition } from './metrics-exposition.service';
import { WorkerSnapshotsReader } from './worker-snapshots.reader';

export { MetricsController } from './metrics.controller';
export { ApiMetrics } from './api-metrics';
export { httpMetricsMiddleware } from './http-metrics.middleware';

/** What ApiModule registers for GET /metrics (they use its Redis, queue and QueueEvents, so they live in it). */
export const METRICS_PROVIDERS: Provider[] = [ApiMetrics, JobCountingListener, WorkerSnapshotsReader, MetricsExposition];
