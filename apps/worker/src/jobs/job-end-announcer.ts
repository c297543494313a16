import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Job } from 'bullmq';
import Redis from 'ioredis';
import { JOB_END_INLINE_BYTES, JobEndedMessage, RedisChannels } from '@app/contracts';
import { redisDatabase } from '@app/redis';
import { TranscriptionProcessor } from '../transcription/transcription.processor';
import { WORKER_REDIS } from '../worker.tokens';

/**
 * Tells every API that a job ended, once BullMQ has recorded its result or failure (the Worker's
 * own events fire after that), with the result or failure when small: sync requests wait for this
 * one message instead of reading every event of the queue's stream. A message lost to a reconnect
 * is made up for by the API's re-reads.
 */
@Injectable()
export class JobEndAnnouncer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobEndAnnouncer.name);
  private readonly channel: string;
  private readonly completed = (job: Job, result: unknown) => this.announce(job, { result });
  private readonly failed = (job: Job | undefined, error: Error) => this.announce(job, { failedReason: job?.failedReason ?? error?.message });

  private announce(job: Job | undefined, end: Omit<JobEndedMessage, 'id'>): void {
    if (!job?.id) return;
    const full = JSON.stringify({ id: job.id, ...end } satisfies JobEndedMessage);
    // a big result stays in the job's hash only: each API replica would receive it
    const message = full.length <= JOB_END_INLINE_BYTES ? full : JSON.stringify({ id: job.id } satisfies JobEndedMessage);
    this.redis.publish(this.channel, message).catch((error: Error) => this.logger.warn(`job ${job.id}: end not announced (sync waiters read it later): ${error.message}`));
  }

  constructor(
    private readonly processor: TranscriptionProcessor,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
  ) {
    this.channel = RedisChannels.jobEnded(redisDatabase(redis));
  }

  onApplicationBootstrap(): void {
    this.processor.worker.on('completed', this.completed);
    this.processor.worker.on('failed', this.failed);
  }

  onApplicationShutdown(): void {
    this.processor.worker.off('completed', this.completed);
    this.processor.worker.off('failed', this.failed);
  }
}
