import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Job } from 'bullmq';
import Redis from 'ioredis';
import { RedisChannels } from '@app/contracts';
import { redisDatabase } from '@app/redis';
import { TranscriptionProcessor } from '../transcription/transcription.processor';
import { WORKER_REDIS } from '../worker.tokens';

/**
 * Tells every API that a job ended, once BullMQ has recorded its result or failure (the Worker's
 * own events fire after that): sync requests wait for this one message instead of reading every
 * event of the queue's stream. A message lost to a reconnect is made up for by the API's re-reads.
 */
@Injectable()
export class JobEndAnnouncer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobEndAnnouncer.name);
  private readonly channel: string;
  private readonly announce = (job: Job | undefined) => {
    if (!job?.id) return;
    this.redis.publish(this.channel, job.id).catch((error: Error) => this.logger.warn(`job ${job.id}: end not announced (sync waiters read it later): ${error.message}`));
  };

  constructor(
    private readonly processor: TranscriptionProcessor,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
  ) {
    this.channel = RedisChannels.jobEnded(redisDatabase(redis));
  }

  onApplicationBootstrap(): void {
    this.processor.worker.on('completed', this.announce);
    this.processor.worker.on('failed', this.announce);
  }

  onApplicationShutdown(): void {
    this.processor.worker.off('completed', this.announce);
    this.processor.worker.off('failed', this.announce);
  }
}
