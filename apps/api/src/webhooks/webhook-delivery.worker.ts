import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { WEBHOOKS_QUEUE, WebhookDeliveryJobData, webhookMessageId } from '@app/contracts';
import { DEFAULT_OUTBOUND_LIMITS, guardedPost, OutboundPolicy } from '@app/outbound';
import { bullQueueOptions } from '@app/redis';
import { webhookHeaders } from './webhook-signature';
import { OUTBOUND_POLICY } from './webhooks.tokens';

/** Deliveries run at once per API process (each waits on a receiver, not on the CPU). */
const DELIVERY_CONCURRENCY = 8;

/** What a finished delivery job keeps (visible in the queue, for operators). */
export interface DeliveryOutcome {
  status: number;
  attempts: number;
  address: string;
}

/**
 * Sends webhook deliveries: signs the frozen body with a fresh timestamp, POSTs it through the
 * SSRF-guarded client (the host is checked again: DNS may have changed since submission) and
 * counts anything but a 2xx as a failed attempt, which BullMQ retries with exponential backoff.
 * It runs in the API process so a slow receiver never holds a transcription worker.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryWorker.name);
  private worker?: Worker<WebhookDeliveryJobData, DeliveryOutcome>;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(OUTBOUND_POLICY) private readonly policy: OutboundPolicy,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker<WebhookDeliveryJobData, DeliveryOutcome>(WEBHOOKS_QUEUE, (job) => this.deliver(job), {
      ...bullQueueOptions(this.config),
      concurrency: DELIVERY_CONCURRENCY,
    });
    this.worker.on('error', (error) => this.logger.warn(`webhook worker: ${error.message}`));
    this.worker.on('failed', (job, error) => {
      if (!job) return;
      const last = job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError;
      const next = last ? 'giving up' : `retrying (attempt ${job.attemptsMade + 1} of ${job.opts.attempts})`;
      this.logger.warn(`webhook ${job.data.type} for job ${job.data.jobId}: ${error.message}; ${next}`);
      if (last) void forget(job).catch(() => undefined);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }

  private async deliver(job: Job<WebhookDeliveryJobData, DeliveryOutcome>): Promise<DeliveryOutcome> {
    const { jobId, url, body } = job.data;
    const secret = job.data.secret ?? this.config.webhookSecret;
    // WEBHOOK_SECRET was removed after the job was accepted: retrying cannot help
    if (!secret) throw new UnrecoverableError('no signing secret: the request gave no callback_secret and WEBHOOK_SECRET is not set');
    const headers = webhookHeaders(secret, webhookMessageId(jobId), body);
    // a refused host or a network error throws: BullMQ counts it as a failed attempt
    const response = await guardedPost(this.policy, url, body, headers, DEFAULT_OUTBOUND_LIMITS);
    if (response.status < 200 || response.status > 299) {
      const hint = response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : '';
      throw new Error(`the receiver answered ${response.status}${hint}`);
    }
    this.logger.log(`webhook ${job.data.type} for job ${jobId} delivered (${response.status}, attempt ${job.attemptsMade + 1})`);
    await forget(job);
    return { status: response.status, attempts: job.attemptsMade + 1, address: response.address };
  }
}

/**
 * An ended delivery stays in the queue for a while (a replayed event must find it and add no
 * second one), but without the request's secret and the body: nothing will be sent again.
 */
async function forget(job: Job<WebhookDeliveryJobData, DeliveryOutcome>): Promise<void> {
  const { secret: _secret, ...rest } = job.data;
  await job.updateData({ ...rest, body: '' });
}
