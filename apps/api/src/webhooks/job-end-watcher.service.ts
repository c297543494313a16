import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import Redis from 'ioredis';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { ErrorCode, JobName, JobQueue, ServiceError, TRANSCRIBE_QUEUE, TranscribeJobData, WebhookDeliveryJobData, webhookDeliveryJobId } from '@app/contracts';
import { createRedis } from '@app/redis';
import { API_REDIS } from '../api.tokens';
import { TranscriptionJobsService } from '../jobs/transcription-jobs.service';
import { webhookDelivery } from './webhook-delivery-job';
import { WEBHOOK_DELIVERIES } from './webhooks.tokens';

/** Where this deployment's API processes have read the transcribe queue's event stream up to. */
export const WEBHOOK_CURSOR_KEY = 'tx:webhooks:events-cursor';

const BLOCK_MS = 5_000;
const BATCH = 100;
const RETRY_AFTER_ERROR_MS = 2_000;
/** Delivery jobs stay this long after they end, so a replayed event finds the job and adds no second one. */
const KEEP_DELIVERY_S = 7 * 24 * 3600;
/** Events that end a job (a cancelled waiting job is removed without one: no webhook for it yet). */
const ENDING_EVENTS = new Set(['completed', 'failed']);

/**
 * Turns "this transcription ended" into one webhook delivery job. It reads the transcribe queue's
 * BullMQ event stream from a cursor kept in Redis, so events that happen while every API process
 * is down are read when one starts again. Every API replica reads every event; the delivery's
 * fixed job id (webhook-<jobId>) makes the second and later adds no-ops: one delivery per job.
 */
@Injectable()
export class JobEndWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobEndWatcher.name);
  private reader?: Redis;
  private stopping = false;
  private loop?: Promise<void>;

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
        for (const [id, fields] of reply[0][1]) {
          const event = fieldsOf(fields);
          if (ENDING_EVENTS.has(event.event) && event.jobId) await this.enqueueDelivery(event.jobId);
          cursor = id;
        }
        await this.redis.set(WEBHOOK_CURSOR_KEY, cursor);
      } catch (error) {
        if (this.stopping) return;
        // the cursor did not move: the same events are read again (adding a delivery is idempotent)
        this.logger.warn(`webhook event reader: ${(error as Error).message}; retrying in ${RETRY_AFTER_ERROR_MS} ms`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_ERROR_MS));
      }
    }
  }

  /** The stored cursor; on a deployment's first start, the stream's newest entry (older jobs had no webhook reader). */
  private async startingCursor(stream: string): Promise<string> {
    const stored = await this.redis.get(WEBHOOK_CURSOR_KEY);
    if (stored) return stored;
    const newest = (await this.redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const cursor = newest[0]?.[0] ?? '0-0';
    await this.redis.set(WEBHOOK_CURSOR_KEY, cursor, 'NX');
    return (await this.redis.get(WEBHOOK_CURSOR_KEY)) ?? cursor;
  }

  private async enqueueDelivery(jobId: string): Promise<void> {
    const job = await this.transcriptions.getJob(jobId);
    if (!job || job.name !== JobName.Transcribe) return;
    const data = job.data as TranscribeJobData;
    if (!data.options?.callbackUrl) return;
    let view;
    try {
      view = await this.jobs.view(jobId, { kind: 'admin' });
    } catch (error) {
      // expired meanwhile (a replay long after the end): nothing left to announce
      if (error instanceof ServiceError && error.code === ErrorCode.JobNotFound) return;
      throw error;
    }
    const delivery = webhookDelivery(jobId, data.options, view, job.finishedOn);
    if (!delivery) return;
    await this.deliveries.add('deliver', delivery, {
      jobId: webhookDeliveryJobId(jobId),
      attempts: this.config.webhookMaxAttempts,
      backoff: { type: 'exponential', delay: this.config.webhookRetryBaseMs },
      removeOnComplete: { age: KEEP_DELIVERY_S },
      removeOnFail: { age: KEEP_DELIVERY_S },
    });
  }
}

/** XREAD's flat [name, value, name, value, …] → an object. */
function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}
