import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Job } from 'bullmq';
import { decodeJobError, ErrorCode, jobKindLabel } from '@app/contracts';
import { TranscriptionProcessor } from '../transcription/transcription.processor';
import { MetricsPublisher } from './metrics-publisher.service';
import { FinishedJob, WorkerMetrics } from './worker-metrics';

/** The parts of a job result the metrics read (transcriptions and language detections both have them). */
interface MeasuredResult {
  model?: unknown;
  duration?: unknown;
  timings_ms?: unknown;
}

/**
 * Counts the outcome of every job this worker ran, from its own BullMQ Worker's events: those fire
 * only in the process that ran the job, so each job is counted once cluster-wide.
 */
@Injectable()
export class JobOutcomesListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly onCompleted = (job: Job, result: unknown) => {
    this.metrics.jobCompleted(finishedJob(job, result as MeasuredResult | undefined));
    this.publisher.publishSoon();
  };
  private readonly onFailed = (job: Job | undefined, error: Error) => {
    const kind = jobKindLabel(job?.name);
    const { code } = decodeJobError(error?.message);
    if (code === ErrorCode.JobCancelled) this.metrics.jobCancelled(kind);
    else this.metrics.jobFailed(kind, code);
    this.publisher.publishSoon();
  };

  constructor(
    private readonly processor: TranscriptionProcessor,
    private readonly metrics: WorkerMetrics,
    private readonly publisher: MetricsPublisher,
  ) {}

  onApplicationBootstrap(): void {
    this.processor.worker.on('completed', this.onCompleted);
    this.processor.worker.on('failed', this.onFailed);
  }

  onApplicationShutdown(): void {
    this.processor.worker.off('completed', this.onCompleted);
    this.processor.worker.off('failed', this.onFailed);
  }
}

/** A completed job as the metrics see it; processing time from BullMQ's timestamps, else the stages' sum. */
export function finishedJob(job: Pick<Job, 'name' | 'processedOn' | 'finishedOn'>, result: MeasuredResult | undefined): FinishedJob {
  const timingsMs = isNumberRecord(result?.timings_ms) ? result.timings_ms : {};
  const stagesMs = Object.entries(timingsMs).reduce((sum, [stage, ms]) => (stage === 'queued' ? sum : sum + ms), 0);
  const wallMs = job.processedOn && job.finishedOn && job.finishedOn >= job.processedOn ? job.finishedOn - job.processedOn : stagesMs;
  return {
    kind: jobKindLabel(job.name),
    model: typeof result?.model === 'string' && result.model ? result.model : 'unknown',
    audioSeconds: typeof result?.duration === 'number' ? result.duration : 0,
    processingSeconds: wallMs / 1000,
    timingsMs,
  };
}

function isNumberRecord(value: unknown): value is Record<string, number> {
  return typeof value === 'object' && value !== null && Object.values(value).every((entry) => typeof entry === 'number');
}
