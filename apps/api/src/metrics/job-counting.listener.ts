import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Job, Queue, QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { JobName, jobKindLabel, RedisKeys, TRANSCRIBE_QUEUE, WorkerMetricsKeys } from '@app/contracts';
import { API_REDIS, TRANSCRIBE_QUEUE_EVENTS } from '../api.tokens';
import { ApiMetrics } from './api-metrics';

/** States a job is removed from by DELETE /jobs/:id (an active one is stopped by its worker instead). */
const WAITING_STATES = new Set(['wait', 'waiting', 'prioritized', 'delayed', 'paused']);
/** How long the claim on a removed job's count lives: removal events arrive within moments. */
const CLAIM_TTL_S = 3600;

/**
 * The job figures the API knows first:
 * - accepted: the Queue object emits 'waiting' for each job *this process* adds, so N replicas
 *   never count one job N times;
 * - cancelled while waiting: the job is removed and never reaches a worker. Every replica hears
 *   the 'removed' event (QueueEvents is cluster-wide), so the first one to claim the job in Redis
 *   counts it. Jobs removed without a cancel mark (retention) are not cancels.
 */
@Injectable()
export class JobCountingListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobCountingListener.name);
  private readonly onWaiting = (job: Job) => this.metrics.jobsAccepted.inc({ kind: jobKindLabel(job?.name) });
  private readonly onRemoved = ({ jobId, prev }: { jobId: string; prev: string }) => void this.countCancel(jobId, prev);

  constructor(
    private readonly metrics: ApiMetrics,
    @InjectQueue(TRANSCRIBE_QUEUE) private readonly queue: Queue,
    @Inject(TRANSCRIBE_QUEUE_EVENTS) private readonly queueEvents: QueueEvents,
    @Inject(API_REDIS) private readonly redis: Redis,
  ) {}

  onApplicationBootstrap(): void {
    this.queue.on('waiting', this.onWaiting);
    this.queueEvents.on('removed', this.onRemoved);
  }

  onApplicationShutdown(): void {
    this.queue.off('waiting', this.onWaiting);
    this.queueEvents.off('removed', this.onRemoved);
  }

  private async countCancel(jobId: string, prev: string): Promise<void> {
    if (!WAITING_STATES.has(prev)) return;
    try {
      if (!(await this.redis.exists(RedisKeys.cancelled(jobId)))) return;
      const claimed = await this.redis.set(WorkerMetricsKeys.cancelCounted(jobId), '1', 'EX', CLAIM_TTL_S, 'NX');
      // only DELETE /jobs/:id cancels (transcriptions); a language detection is answered at once
      if (claimed === 'OK') this.metrics.jobsCancelled.inc({ kind: JobName.Transcribe, state: 'waiting' });
    } catch (error) {
      this.logger.warn(`could not count the cancel of job ${jobId}: ${(error as Error).message}`);
    }
  }
}
