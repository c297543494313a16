import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import Redis from 'ioredis';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import {
  ErrorCode,
  JobName,
  JobQueue,
  JobView,
  ServiceError,
  TRANSCRIBE_QUEUE,
  TranscribeJobData,
  WebhookDeliveryJobData,
  webhookDeliveryJobId,
  WebhookRedisKeys,
  WebhookTarget,
} from '@app/contracts';
import { createRedis, isRedisConnectionError } from '@app/redis';
import { API_REDIS } from '../api.tokens';
import { TranscriptionJobsService } from '../jobs/transcription-jobs.service';
import { webhookDelivery, webhookTarget } from './webhook-delivery-job';
import { WEBHOOK_DELIVERIES } from './webhooks.tokens';

const BLOCK_MS = 5_000;
const BATCH = 100;
const RETRY_AFTER_ERROR_MS = 2_000;
const CURSOR_SAVE_INTERVAL_MS = 1_000;
/** Pause after each batch of events, so that a busy queue's events are read many at a time. */
const GATHER_EVENTS_MS = 100;
/** An event that fails this many times in a row is skipped (logged): one bad job must not stop every webhook. */
const MAX_TRIES_PER_EVENT = 5;
/** Delivery jobs stay this long after they end, so a replayed event finds the job and adds no second one. */
const KEEP_DELIVERY_S = 7 * 24 * 3600;
const ADMIN = { kind: 'admin' } as const;

/** A job's callback (none: no webhook) and end time, as its hash holds them. */
interface JobTarget {
  target?: WebhookTarget;
  finishedOn?: number;
}

/**
 * Turns "this transcription ended" into one webhook delivery job. It reads the transcribe queue's
 * BullMQ event stream from a cursor kept in Redis, so events that happen while every API process
 * is down are read when one starts again. Every API replica reads every event; the delivery's
 * fixed job id (webhook-<jobId>) makes the second and later adds no-ops: one delivery per job.
 *
 * completed / failed (a cancelled running job fails with job_cancelled): the job still exists and
 * carries its callback. A job cancelled while queued is removed with its data, so its callback is
 * copied aside when the job is added and read back when it is removed.
 */
@Injectable()
export class JobEndWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobEndWatcher.name);
  private reader?: Redis;
  private stopping = false;
  private loop?: Promise<void>;
  private failing?: { id: string; tries: number };
  private cursorSavedAt = 0;
  private unsavedCursor?: string;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @InjectQueue(TRANSCRIBE_QUEUE) private readonly transcriptions: JobQueue,
    @Inject(WEBHOOK_DELIVERIES) private readonly deliveries: Queue<WebhookDeliveryJobData>,
    @Inject(API_REDIS) private readonly redis: Redis,
    private readonly jobs: TranscriptionJobsService,
  ) {}

  onApplicationBootstrap(): void {
    // a blocking XREAD needs a connection of its own
    this.reader = createRedis(this.config.redisUrl, 'api-webhook-events');
    this.reader.on('error', () => undefined); // reconnects by itself; the loop logs what fails
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.reader?.disconnect();
    await this.loop?.catch(() => undefined);
    // where this replica got to, so its successor does not read those events again
    if (this.unsavedCursor) await this.redis.set(WebhookRedisKeys.eventsCursor, this.unsavedCursor).catch(() => undefined);
    // this watcher is the queue's only producer in the process
    await this.deliveries.close().catch(() => undefined);
  }

  private async run(): Promise<void> {
    const stream = this.transcriptions.keys.events;
    let cursor: string | undefined;
    while (!this.stopping) {
      try {
        cursor ??= await this.startingCursor(stream);
        const reply = (await this.reader!.xread('COUNT', BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', stream, cursor)) as [string, [string, string[]][]][] | null;
        if (!reply) continue;
        const events = reply[0][1].map(([id, fields]) => [id, fieldsOf(fields)] as const);
        const targets = this.readTargets(events.map(([, event]) => event));
        for (const [id, event] of events) {
          await this.handleOnce(id, event, targets);
          cursor = id;
        }
        await this.saveCursor(cursor);
        // a webhook may leave a moment later: the next read then takes the events of several jobs at
        // once, instead of waking this process for each of the ~6 events every job makes
        await new Promise((resolve) => setTimeout(resolve, GATHER_EVENTS_MS));
      } catch (error) {
        if (this.stopping) return;
        // the cursor did not move: the same events are read again (each step is idempotent)
        this.logger.warn(`webhook event reader: ${(error as Error).message}; retrying in ${RETRY_AFTER_ERROR_MS} ms`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_ERROR_MS));
      }
    }
  }

  /**
   * At most one cursor write per CURSOR_SAVE_INTERVAL_MS (a job makes ~6 queue events, each a wake-up
   * here): after a restart the events since the last save are read again, which every step allows.
   */
  private async saveCursor(cursor: string): Promise<void> {
    const now = Date.now();
    if (now - this.cursorSavedAt < CURSOR_SAVE_INTERVAL_MS) {
      this.unsavedCursor = cursor;
      return;
    }
    await this.redis.set(WebhookRedisKeys.eventsCursor, cursor);
    this.cursorSavedAt = now;
    this.unsavedCursor = undefined;
  }

  /**
   * The callbacks of the batch's added and ended jobs, asked for all at once (the API's connection
   * sends them in one write) instead of a round trip per event; a failed read fails its event.
   */
  private readTargets(events: Record<string, string>[]): Map<string, Promise<JobTarget>> {
    const targets = new Map<string, Promise<JobTarget>>();
    for (const { event, jobId } of events) {
      if (!jobId || targets.has(jobId) || !['added', 'completed', 'failed'].includes(event)) continue;
      const read = this.targetOf(jobId);
      // awaited by the event's handler; one the loop never reaches (it stopped on an error) is no unhandled rejection
      read.catch(() => undefined);
      targets.set(jobId, read);
    }
    return targets;
  }

  /** handle(), retried by the loop on failure until MAX_TRIES_PER_EVENT, then skipped. */
  private async handleOnce(id: string, event: Record<string, string>, targets: Map<string, Promise<JobTarget>>): Promise<void> {
    try {
      await this.handle(event, targets);
      this.failing = undefined;
    } catch (error) {
      // Redis away: wait for it as long as it takes, nothing is skipped
      if (isRedisConnectionError(error) || (error instanceof ServiceError && error.code === ErrorCode.RedisUnavailable)) throw error;
      const tries = this.failing?.id === id ? this.failing.tries + 1 : 1;
      this.failing = { id, tries };
      if (tries < MAX_TRIES_PER_EVENT) throw error;
      this.failing = undefined;
      this.logger.error(`webhook for job ${event.jobId} (${event.event} event ${id}) skipped after ${tries} failures: ${(error as Error).message}`);
    }
  }

  private async handle(event: Record<string, string>, targets: Map<string, Promise<JobTarget>>): Promise<void> {
    const jobId = event.jobId;
    if (!jobId) return;
    // one read serves a job's 'added' and its end in the same batch; a failed batch is read again, with new reads
    const target = () => targets.get(jobId) ?? this.targetOf(jobId);
    if (event.event === 'added') return this.rememberTarget(jobId, await target());
    if (event.event === 'completed' || event.event === 'failed') return this.ended(jobId, await target());
    if (event.event === 'removed') return this.removed(jobId);
  }

  /** The stored cursor; on a deployment's first start, the stream's newest entry (older jobs had no webhook reader). */
  private async startingCursor(stream: string): Promise<string> {
    const stored = await this.redis.get(WebhookRedisKeys.eventsCursor);
    if (stored) return stored;
    const newest = (await this.redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
    await this.redis.set(WebhookRedisKeys.eventsCursor, newest[0]?.[0] ?? '0-0', 'NX');
    return (await this.redis.get(WebhookRedisKeys.eventsCursor)) ?? '0-0';
  }

  /**
   * The job's callback and end time, from three fields of its hash (most jobs have no callback: one
   * HMGET, without the job's result or the rest of its hash).
   */
  private async targetOf(jobId: string): Promise<JobTarget> {
    const [name, data, finishedOn] = await this.redis.hmget(this.transcriptions.toKey(jobId), 'name', 'data', 'finishedOn');
    if (name !== JobName.Transcribe || !data) return {};
    try {
      return { target: webhookTarget((JSON.parse(data) as TranscribeJobData).options), finishedOn: finishedOn ? Number(finishedOn) : undefined };
    } catch {
      return {};
    }
  }

  private async rememberTarget(jobId: string, { target }: JobTarget): Promise<void> {
    // a replayed 'added' of a job that has ended meanwhile needs no copy (it would only keep the secret around)
    if (!target || ['completed', 'failed'].includes(await this.transcriptions.getJobState(jobId))) return;
    // as long as the audio may wait for a worker; a job still queued after that fails (no audio)
    await this.redis.set(WebhookRedisKeys.pendingTarget(jobId), JSON.stringify(target), 'EX', this.config.audioTtlS);
  }

  private async ended(jobId: string, { target, finishedOn }: JobTarget): Promise<void> {
    if (!target) return;
    await this.enqueue(jobId, target, finishedOn);
  }

  private async removed(jobId: string): Promise<void> {
    const stored = await this.redis.get(WebhookRedisKeys.pendingTarget(jobId));
    // only a queued job with a callback left a copy; the view says whether a cancel removed it
    if (stored) await this.enqueue(jobId, JSON.parse(stored) as WebhookTarget, Date.now());
  }

  private async enqueue(jobId: string, target: WebhookTarget, finishedOn: number | undefined): Promise<void> {
    const view = await this.viewOf(jobId);
    const delivery = view && webhookDelivery(jobId, target, view, finishedOn);
    if (delivery) {
      await this.deliveries.add('deliver', delivery, {
        jobId: webhookDeliveryJobId(jobId),
        attempts: this.config.webhookMaxAttempts,
        backoff: { type: 'exponential', delay: this.config.webhookRetryBaseMs },
        removeOnComplete: { age: KEEP_DELIVERY_S },
        removeOnFail: { age: KEEP_DELIVERY_S },
      });
    }
    if (view && view.status !== 'queued' && view.status !== 'active') await this.redis.del(WebhookRedisKeys.pendingTarget(jobId));
  }

  /** GET /jobs/:id's view (as the admin sees it); undefined once the job expired (a replay long after its end). */
  private async viewOf(jobId: string): Promise<JobView | undefined> {
    try {
      return await this.jobs.view(jobId, ADMIN);
    } catch (error) {
      if (error instanceof ServiceError && error.code === ErrorCode.JobNotFound) return undefined;
      throw error;
    }
  }
}

/** XREAD's flat [name, value, name, value, …] → an object. */
function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}
