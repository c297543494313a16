import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { HistogramBuckets, MetricNames, QUEUE_STATES } from '@app/contracts';

/**
 * The API process's own figures. Each is counted where it happens exactly once cluster-wide: HTTP
 * requests and accepted jobs by the replica that served them; job outcomes by the worker that ran
 * the job (its snapshot, merged at scrape time); queue depth and worker counts read at scrape time.
 */
@Injectable()
export class ApiMetrics {
  /** its own registry, not prom-client's global one: one per app, so tests can boot several */
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: MetricNames.httpRequests,
    help: 'HTTP requests answered, by method, route pattern and status (499: the client closed first)',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpRequestDuration = new Histogram({
    name: MetricNames.httpRequestDuration,
    help: 'Time from a request\'s arrival to its last byte sent, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [...HistogramBuckets.httpSeconds],
    registers: [this.registry],
  });

  readonly jobsAccepted = new Counter({
    name: MetricNames.jobsAccepted,
    help: 'Jobs this API process put on the queue, by kind (transcribe, detect_language)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly jobsCancelled = new Counter({
    name: MetricNames.jobsCancelled,
    help: 'Jobs cancelled, by kind and the state they were in: waiting (removed from the queue; counted by the API) or active (stopped by their worker)',
    labelNames: ['kind', 'state'] as const,
    registers: [this.registry],
  });

  readonly queueJobs = new Gauge({
    name: MetricNames.queueJobs,
    help: `Jobs in the queue by state (${QUEUE_STATES.join(', ')}; finished ones until their retention ends), read at scrape time`,
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly workers = new Gauge({
    name: MetricNames.workers,
    help: 'Workers with a fresh heartbeat, read at scrape time',
    registers: [this.registry],
  });

  readonly workersBusy = new Gauge({
    name: MetricNames.workersBusy,
    help: 'Workers running at least one job, read at scrape time',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
