import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import Redis from 'ioredis';
import type { BlobStore } from '@app/blob-store';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import {
  decodeJobError,
  ErrorCode,
  JobDataMap,
  JobListBody,
  JobName,
  JobProgress,
  JobResultMap,
  JobQueue,
  JobView,
  QueuedJob,
  RedisChannels,
  RedisKeys,
  ServiceError,
  TRANSCRIBE_QUEUE,
  TranscribeJobData,
  TranscribeOptions,
  TranscriptionResult,
} from '@app/contracts';
import { addToLogContext, currentRequestId } from '@app/logging';
import { appendJobEvent, redisDatabase, replicasAcknowledged } from '@app/redis';
import { API_REDIS, API_SUBSCRIBER } from '../api.tokens';
import { ANONYMOUS_OWNER, Principal } from '../auth/credentials';
import { withTimeout } from '../common/with-timeout';
import { FairShare } from './fair-share';
import { ApiMetrics } from '../metrics/api-metrics';
import { JobEndWaiters } from './job-end-waiters';
import { JobIndex } from './job-index';
import { JobLister } from './job-list';
import type { JobListQuery } from './job-list-query';
import { queuePosition } from './queue-position';
import { AUDIO_BLOB_STORE, StoredUpload } from '../upload/stored-upload';

const REDIS_TIMEOUT_MS = 5_000;
const CANCEL_MARK_TTL_S = 24 * 3600;

/** The queue carries every kind of job in the map; GET/DELETE /jobs see transcriptions only. */
type UploadQueue = JobQueue;
type TranscribeJob = QueuedJob<JobName.Transcribe>;

/** Failed jobs stay readable at least a day, longer if RESULT_TTL_S says so. */
const MIN_FAILURE_TTL_S = 24 * 3600;

export type SubmitOutcome<R = TranscriptionResult> = { kind: 'completed'; result: R } | { kind: 'accepted'; jobId: string };

const redisDown = () => new ServiceError(ErrorCode.RedisUnavailable, 'Redis did not answer in time');

/** Enqueues transcriptions, waits on them, reports and cancels them. */
@Injectable()
export class TranscriptionJobsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(TranscriptionJobsService.name);
  private readonly fairShare: FairShare;
  /** per-owner index of transcriptions: GET /jobs */
  private readonly jobIndex: JobIndex;
  private readonly lister: JobLister;
  /** sync requests waiting for their job's end */
  private readonly jobEnds: JobEndWaiters;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @InjectQueue(TRANSCRIBE_QUEUE) private readonly queue: UploadQueue,
    @Inject(API_SUBSCRIBER) subscriber: Redis,
    @Inject(API_REDIS) private readonly redis: Redis,
    @Inject(AUDIO_BLOB_STORE) private readonly audio: BlobStore,
    private readonly metrics: ApiMetrics,
  ) {
    this.fairShare = new FairShare(redis, queue, config.maxQueuedPerKey, config.audioTtlS);
    // an index entry lasts as long as its job can be read: waiting (the audio's TTL), then kept as a result or failure
    this.jobIndex = new JobIndex(redis, config.audioTtlS + Math.max(config.resultTtlS, MIN_FAILURE_TTL_S));
    this.lister = new JobLister(redis, queue, this.jobIndex);
    const channel = (name: 'jobEnded' | 'cancel') => RedisChannels[name](redisDatabase(redis));
    this.jobEnds = new JobEndWaiters(
      subscriber,
      redis,
      { jobKey: (jobId) => queue.toKey(jobId), cancelMarkKey: RedisKeys.cancelled, channels: () => ({ jobEnded: channel('jobEnded'), cancel: channel('cancel') }) },
      (message) => this.logger.warn(message),
    );
  }

  onModuleInit(): void {
    this.jobEnds.listen();
  }

  /** Enqueues the transcription of a stored upload; waits for the result unless async (or the wait times out). */
  submit(upload: StoredUpload, options: TranscribeOptions, wait: boolean, principal: Principal): Promise<SubmitOutcome> {
    return this.enqueue(JobName.Transcribe, upload, options, wait, principal);
  }

  /**
   * Any job on an upload (transcription, language detection): the upload is in the blob store already
   * under the job's id (streamed there as it arrived); the job goes behind its key's fair share, then
   * the result when `wait` (until SYNC_TIMEOUT_S). Once queued, the upload is the worker's to delete.
   */
  async enqueue<N extends JobName>(
    name: N,
    upload: StoredUpload,
    options: JobDataMap[N]['options'],
    wait: boolean,
    principal: Principal,
  ): Promise<SubmitOutcome<JobResultMap[N]>> {
    const jobId = upload.jobId;
    const fileName = upload.originalname;
    const owner = ownerOf(principal);
    // fair share between API keys; without API_KEYS there is one backlog and nobody to share it with:
    // the job goes in arrival order (no priority), and its submit saves the round trip
    const shared = this.config.apiKeys.length > 0;
    const priority = shared ? await withTimeout(this.fairShare.admit(owner, jobId, principal.kind === 'key'), REDIS_TIMEOUT_MS, redisDown) : undefined;
    // the request id goes with the job: the worker's lines for it carry the same id
    const requestId = currentRequestId();
    const data = { options, fileName, sizeBytes: upload.size, acceptedAt: Date.now(), owner, ...(requestId ? { requestId } : {}) } as JobDataMap[N];
    // GET /jobs lists transcriptions: the entry is written beside the add (one round trip less; an
    // entry whose add failed names no job and the list drops it); the job runs even if it is not written
    const indexed =
      name === JobName.Transcribe
        ? this.jobIndex.record(owner, jobId, data.acceptedAt).catch((error: Error) => this.logger.warn(`job ${jobId} not in its key's job list: ${error.message}`))
        : undefined;
    let job: QueuedJob<N>;
    try {
      job = (await withTimeout(
        (this.queue as unknown as JobQueue<N>).add(name as never, data as never, {
          jobId,
          attempts: 1,
          ...(priority !== undefined ? { priority } : {}),
          // by age only (a count would drop results early on a busy service); never `true`: a waiter
          // that arrives after completion needs the job to still exist
          removeOnComplete: { age: this.config.resultTtlS },
          removeOnFail: { age: Math.max(this.config.resultTtlS, MIN_FAILURE_TTL_S) },
        }),
        REDIS_TIMEOUT_MS,
        redisDown,
      )) as unknown as QueuedJob<N>;
      // queued: the worker deletes the audio when done with it (or its TTL does)
      upload.claimed = true;
      // REDIS_REQUIRE_REPLICA_ACK: a job only the primary holds would be lost with it in a failover
      await this.awaitReplicaAck(job, jobId);
    } catch (error) {
      // not queued after all: it must not count against the key's backlog
      if (shared) await this.fairShare.untrack(owner, jobId).catch(() => undefined);
      throw error;
    }
    addToLogContext({ job_id: jobId });
    this.logger.log(`job ${jobId} queued (${name}, ${upload.size} bytes)`);
    await indexed;
    if (!wait) return { kind: 'accepted', jobId };
    // past SYNC_TIMEOUT_S (or the API closing) the caller gets 202 and polls; the job goes on
    const end = await this.jobEnds.wait(jobId, this.config.syncTimeoutS * 1000);
    if (!end) return { kind: 'accepted', jobId };
    if (end.kind === 'completed') return { kind: 'completed', result: end.result as JobResultMap[N] };
    if (end.kind === 'cancelled') throw new ServiceError(ErrorCode.JobCancelled, `job ${jobId} was cancelled`);
    const failure = decodeJobError(end.failedReason);
    throw new ServiceError(failure.code, failure.message, failure.field, failure.error_id);
  }

  async view(jobId: string, principal: Principal): Promise<JobView> {
    let job = await this.visibleJob(jobId, principal);
    if (!job) {
      if (await this.removedByCancel(jobId, principal)) {
        return { job_id: jobId, status: 'cancelled', progress: 0, stage: 'queued', error: { code: ErrorCode.JobCancelled, message: 'job was cancelled' } };
      }
      throw notFound(jobId);
    }
    const state = await job.getState();
    // the job may have finished between the two reads: its snapshot then lacks the result or reason
    if (state === 'completed' || state === 'failed') job = ((await this.queue.getJob(jobId)) as TranscribeJob | undefined) ?? job;
    const progress = this.progressOf(job);
    if (state === 'completed') {
      return { job_id: jobId, status: 'completed', progress: 100, stage: 'done', result: job.returnvalue };
    }
    if (state === 'failed') {
      const error = decodeJobError(job.failedReason);
      const status = error.code === ErrorCode.JobCancelled ? 'cancelled' : 'failed';
      return { job_id: jobId, status, progress: progress.percent, stage: progress.stage, error };
    }
    const download = state === 'active' && progress.stage === 'downloading_model' ? progress.download : undefined;
    return { job_id: jobId, status: state === 'active' ? 'active' : 'queued', progress: progress.percent, stage: progress.stage, ...(download ? { download } : {}) };
  }

  /**
   * A completed job's transcript and its upload's name (GET /jobs/:id/result). Unknown or another
   * key's job: 404; cancelled: 409 job_cancelled; queued, running or failed: 409 job_not_completed.
   */
  async completedResult(jobId: string, principal: Principal): Promise<{ result: TranscriptionResult; fileName?: string }> {
    const job = await this.visibleJob(jobId, principal);
    if (!job) {
      if (await this.removedByCancel(jobId, principal)) throw new ServiceError(ErrorCode.JobCancelled, `job ${jobId} was cancelled`);
      throw notFound(jobId);
    }
    const state = await job.getState();
    if (state === 'completed') {
      // read again: a job that finished between the two reads has no result in its first snapshot
      const done = job.returnvalue ? job : (((await this.queue.getJob(jobId)) as TranscribeJob | undefined) ?? job);
      return { result: done.returnvalue, fileName: done.data.fileName };
    }
    if (state === 'failed') {
      const error = decodeJobError(job.failedReason);
      if (error.code === ErrorCode.JobCancelled) throw new ServiceError(ErrorCode.JobCancelled, `job ${jobId} was cancelled`);
      throw new ServiceError(ErrorCode.JobNotCompleted, `job ${jobId} failed (${error.code}): no transcript; GET /jobs/${jobId} has the error`);
    }
    const status = state === 'active' ? 'active' : 'queued';
    throw new ServiceError(ErrorCode.JobNotCompleted, `job ${jobId} is ${status}, not completed yet; poll GET /jobs/${jobId} until its status is "completed"`);
  }

  /** Waiting job → removed; active job → aborted inside whisper.cpp by its worker. */
  async cancel(jobId: string, principal: Principal): Promise<JobView> {
    const job = await this.visibleJob(jobId, principal);
    if (!job) {
      // a waiting job that was cancelled is gone from the queue: same answer as a finished one
      if (await this.removedByCancel(jobId, principal)) throw new ServiceError(ErrorCode.JobFinished, `job ${jobId} was already cancelled`);
      throw notFound(jobId);
    }
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') {
      const cancelled = decodeJobError(job.failedReason).code === ErrorCode.JobCancelled;
      throw new ServiceError(ErrorCode.JobFinished, `job ${jobId} ${cancelled ? 'was already cancelled' : `already ${state}`}`);
    }
    const owner = job.data.owner ?? ANONYMOUS_OWNER;
    // the mark covers the race where a worker takes the job between our read and our removal; it
    // names the owner so the cancelled job stays visible to its owner only
    await this.redis.set(RedisKeys.cancelled(jobId), owner, 'EX', CANCEL_MARK_TTL_S);
    await this.fairShare.untrack(owner, jobId);
    if (state !== 'active') {
      // no worker will write this job's end: its event stream (GET /jobs/:id/events) gets it from here,
      // before the removal, so a reader never sees the job gone without it. Should a worker take the
      // job meanwhile, the mark stops it, and its own cancelled event comes after this one.
      const cancelled = { type: 'failed', error: { code: ErrorCode.JobCancelled, message: 'job was cancelled' } } as const;
      await appendJobEvent(this.redis, jobId, cancelled, this.config.resultTtlS).catch((error: Error) =>
        this.logger.warn(`job ${jobId}: cancelled event not written (its event stream ends from its status): ${error.message}`),
      );
      try {
        await job.remove();
        // counted here, once: the replica that removed it (a job a worker took meanwhile is counted by that worker)
        this.metrics.jobsCancelled.inc({ kind: JobName.Transcribe, state: 'waiting' });
      } catch {
        // taken by a worker meanwhile: the mark and the broadcast below stop it
      }
    }
    await this.redis.publish(RedisChannels.cancel(redisDatabase(this.redis)), jobId);
    // a running job's worker reads its audio as it decodes: deleted under it, the job would end as
    // audio_expired instead of cancelled; its worker releases the audio as it stops (a dead one: the TTL)
    if (state !== 'active') await this.audio.delete(jobId);
    this.logger.log(`job ${jobId} cancelled (was ${state})`);
    return { job_id: jobId, status: 'cancelled', progress: this.progressOf(job).percent, stage: this.progressOf(job).stage };
  }

  /** GET /jobs: the caller's own transcriptions (every one for the admin token), newest first. */
  list(principal: Principal, query: JobListQuery): Promise<JobListBody> {
    return withTimeout(this.lister.list(principal.kind === 'admin' ? undefined : principal.owner, query), REDIS_TIMEOUT_MS, redisDown);
  }

  /** A waiting job's place in line (1 = next), null when the queue does not say, undefined once it no longer waits. */
  async queuePlace(jobId: string): Promise<number | null | undefined> {
    const place = await queuePosition(this.redis, { wait: this.queue.toKey('wait'), prioritized: this.queue.toKey('prioritized') }, jobId);
    if (place !== null) return place;
    const state = await this.queue.getJobState(jobId);
    return state === 'delayed' || state === 'waiting' || state === 'prioritized' || state === 'waiting-children' ? null : undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    this.jobEnds.close();
    await Promise.allSettled([this.redis.quit(), this.audio.close()]);
  }

  /**
   * With REDIS_REQUIRE_REPLICA_ACK=n: WAIT on the queue's connection (the one that added the job) until n
   * replicas hold it; otherwise the job and its audio are withdrawn and the caller gets a 503 to retry.
   */
  private async awaitReplicaAck(job: { remove(): Promise<void> }, jobId: string): Promise<void> {
    const { requireReplicaAck: replicas, replicaAckTimeoutMs } = this.config;
    if (replicas === 0) return;
    const acknowledged = await withTimeout(
      this.queue.client.then((client) => replicasAcknowledged(client, replicas, replicaAckTimeoutMs)),
      replicaAckTimeoutMs + REDIS_TIMEOUT_MS,
      redisDown,
    ).catch(() => 0);
    if (acknowledged >= replicas) return;
    // best effort: with the primary gone the removal fails too, and the job may still run once
    await Promise.allSettled([job.remove(), this.audio.delete(jobId)]);
    throw new ServiceError(ErrorCode.RedisUnavailable, `no ${replicas === 1 ? 'Redis replica' : `${replicas} Redis replicas`} acknowledged the job within ${replicaAckTimeoutMs} ms: not accepted, retry`);
  }

  /** The job if it exists and the caller may see it; another key's job looks like no job at all. */
  private async visibleJob(jobId: string, principal: Principal): Promise<TranscribeJob | undefined> {
    const job = await withTimeout(this.queue.getJob(jobId), REDIS_TIMEOUT_MS, redisDown);
    // only transcriptions have a status and a result here (a language detection answers at once)
    if (!job || job.name !== JobName.Transcribe) return undefined;
    // a job's data is what the API wrote, but read defensively: a foreign or damaged job has none
    if (!mayAccess(principal, (job.data as TranscribeJobData | undefined)?.owner)) return undefined;
    // the request's lines from here on are about this job
    addToLogContext({ job_id: jobId });
    return job as TranscribeJob;
  }

  /** A waiting job removed by DELETE leaves only its cancel mark, which names the owner. */
  private async removedByCancel(jobId: string, principal: Principal): Promise<boolean> {
    const owner = await this.redis.get(RedisKeys.cancelled(jobId));
    return owner !== null && mayAccess(principal, owner);
  }

  private progressOf(job: TranscribeJob): JobProgress {
    const progress = job.progress as Partial<JobProgress> | number | undefined;
    if (typeof progress === 'object' && progress !== null) {
      return { percent: progress.percent ?? 0, stage: progress.stage ?? 'queued', ...(progress.download ? { download: progress.download } : {}) };
    }
    return { percent: typeof progress === 'number' ? progress : 0, stage: 'queued' };
  }
}

function ownerOf(principal: Principal): string {
  return principal.kind === 'admin' ? 'admin' : principal.owner;
}

function mayAccess(principal: Principal, owner: string | undefined): boolean {
  return principal.kind === 'admin' || (owner ?? ANONYMOUS_OWNER) === principal.owner;
}

const notFound = (jobId: string) => new ServiceError(ErrorCode.JobNotFound, `no job with id ${jobId} (unknown or expired)`);
