import { Provider } from '@nestjs/common';
import { JobOutcomesListener } from './job-outcomes.listener';
import { MetricsPublisher } from './metrics-publisher.service';
import { WorkerMetrics } from './worker-metrics';

/** What WorkerModule registers: the worker's registry, its job counting and its publisher. */
export const WORKER_METRICS_PROVIDERS: Provider[] = [WorkerMetrics, JobOutcomesListener, MetricsPublisher];
