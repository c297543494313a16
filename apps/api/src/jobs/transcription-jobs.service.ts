import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Job, Queue, QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import {
  decodeJobError,
  ErrorCode,
  JobName,
  JobProgress,
  PublicJobStatus,
  RedisChannels,
  RedisKeys,
  ServiceError,
  TRANSCRIBE_QUEUE,
  TranscribeJobData,
  TranscribeOptions,
  TranscriptionResult,
} from '@app/contracts';
import { AudioStore, redisDatabase } from '@app/storage';
import { API_REDIS, TRANSCRIBE_QUEUE_EVENTS } from '../api.tokens';
import { withTimeout } from '../common/with-timeout';

const REDIS_TIMEOUT_MS = 5_000;
const CANCEL_MARK_TTL_S = 24 * 3600;

export interface JobView {
  job_id: string;
  status: PublicJobStatus;
  progress: number;
  stage: string;
  result?: TranscriptionResult;
  error?: { code: string; message: string; field?: string };
}

export type SubmitOutcome = { kind: 'completed'; result: TranscriptionResult } | { kind: 'accepted'; jobId: string };

const redisDown = () => new ServiceError(ErrorCode.RedisUnavailable, 'Redis did not answer in time');

/** Enqueues transcriptions, waits on them, reports and cancels them. */
@Injectable()
export class TranscriptionJobsService implements OnApplicationShutdown {
  private readonly logger = new Logger(TranscriptionJobsService.name);
  private readonly audio: AudioStore;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @InjectQueue(TRANSCRIBE_QUEUE) private readonly queue: Queue,
    @Inject(TRANSCRIBE_QUEUE_EVENTS) private readonly queueEvents: QueueEvents,
    @Inject(API_REDIS) private readonly redis: Redis,
  ) {
    this.audio = new AudioStore(redis);
  }

  /** Stores the bytes, enqueues the job; waits for the result unless async (or the wait times out). */
  async submit(bytes: Buffer, fileName: string | undefined, options: TranscribeOptions, wait: boolean): Promise<SubmitOutcome> {
    const jobId = randomUUID();
    const data: TranscribeJobData = { options, fileName, sizeBytes: bytes.length, acceptedAt: Date.now() };
    await withTimeout(this.audio.put(jobId, bytes, this.config.audioTtlS), REDIS_TIMEOUT_MS, redisDown);
    const job = await withTimeout(
      this.queue.add(JobName.Transcribe, data, {
        jobId,
        attempts: 1,
        // never `true`: a waiter that arrives after completion needs the job to still exist
        removeOnComplete: { age: 3600, count: 1000 },
        removeOnFail: { age: 24 * 3600, count: 5000 },
      }),
      REDIS_TIMEOUT_MS,
      redisDown,
    );
    if (!wait) return { kind: 'accepted', jobId };
    try {
      const result = (await job.waitUntilFinished(this.queueEvents, this.config.syncTimeoutS * 1000)) as TranscriptionResult;
      return { kind: 'completed', result };
    } catch (error) {
      const message = (error as Error).message ?? '';
      if (/timed out/i.test(message)) return { kind: 'accepted', jobId };
      const failure = decodeJobError(message);
      throw new ServiceError(failure.code, failure.message, failure.field);
    }
  }

  async view(jobId: string): Promise<JobView> {
    let job = (await withTimeout(this.queue.getJob(jobId), REDIS_TIMEOUT_MS, redisDown)) as Job | undefined;
    if (!job) {
      if (await this.redis.exists(RedisKeys.cancelled(jobId))) {
        return { job_id: jobId, status: 'cancelled', progress: 0, stage: 'queued', error: { code: ErrorCode.JobCancelled, message: 'job was cancelled' } };
      }
      throw new ServiceError(ErrorCode.JobNotFound, `no job with id ${jobId} (unknown or expired)`);
    }
    const state = await job.getState();
    // the job may have finished between the two reads: its snapshot then lacks the result or reason
    if (state === 'completed' || state === 'failed') job = ((await this.queue.getJob(jobId)) as Job | undefined) ?? job;
    const progress = this.progressOf(job);
    if (state === 'completed') {
      return { job_id: jobId, status: 'completed', progress: 100, stage: 'done', result: job.returnvalue as TranscriptionResult };
    }
    if (state === 'failed') {
      const error = decodeJobError(job.failedReason);
      const status = error.code === ErrorCode.JobCancelled ? 'cancelled' : 'failed';
      return { job_id: jobId, status, progress: progress.percent, stage: progress.stage, error };
    }
    return { job_id: jobId, status: state === 'active' ? 'active' : 'queued', progress: progress.percent, stage: progress.stage };
  }

  /** Waiting job → removed; active job → aborted inside whisper.cpp by its worker. */
  async cancel(jobId: string): Promise<JobView> {
    const job = (await withTimeout(this.queue.getJob(jobId), REDIS_TIMEOUT_MS, redisDown)) as Job | undefined;
    if (!job) throw new ServiceError(ErrorCode.JobNotFound, `no job with id ${jobId} (unknown or expired)`);
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') {
      throw new ServiceError(ErrorCode.JobFinished, `job ${jobId} already ${state}`);
    }
    // the mark covers the race where a worker takes the job between our read and our removal
    await this.redis.set(RedisKeys.cancelled(jobId), '1', 'EX', CANCEL_MARK_TTL_S);
    if (state !== 'active') {
      try {
        await job.remove();
      } catch {
        // taken by a worker meanwhile: the mark and the broadcast below stop it
      }
    }
    await this.redis.publish(RedisChannels.cancel(redisDatabase(this.redis)), jobId);
    await this.audio.delete(jobId);
    this.logger.log(`job ${jobId} cancelled (was ${state})`);
    return { job_id: jobId, status: 'cancelled', progress: this.progressOf(job).percent, stage: this.progressOf(job).stage };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.queueEvents.close(), this.redis.quit()]);
  }

  private progressOf(job: Job): JobProgress {
    const progress = job.progress as Partial<JobProgress> | number | undefined;
    if (typeof progress === 'object' && progress !== null) {
      return { percent: progress.percent ?? 0, stage: progress.stage ?? 'queued' };
    }
    return { percent: typeof progress === 'number' ? progress : 0, stage: 'queued' };
  }
}
