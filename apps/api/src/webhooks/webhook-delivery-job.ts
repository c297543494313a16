import { JobView, TranscribeOptions, WebhookDeliveryJobData, WebhookPayload, WebhookTarget, webhookEventType } from '@app/contracts';

/**
 * The delivery for a job that ended: its event type, URL, frozen body and the request's secret (if
 * it gave one). undefined when the job asked for no webhook or has not ended.
 */
export function webhookDelivery(jobId: string, target: WebhookTarget | undefined, view: JobView, finishedOn: number | undefined): WebhookDeliveryJobData | undefined {
  const type = webhookEventType(view.status);
  if (!target || !type) return undefined;
  const payload: WebhookPayload = { type, timestamp: new Date(finishedOn ?? Date.now()).toISOString(), data: view };
  return { jobId, type, url: target.url, body: JSON.stringify(payload), ...(target.secret ? { secret: target.secret } : {}) };
}

/** The webhook a job's options ask for (undefined: none). */
export function webhookTarget(options: Pick<TranscribeOptions, 'callbackUrl' | 'callbackSecret'> | undefined): WebhookTarget | undefined {
  if (!options?.callbackUrl) return undefined;
  return { url: options.callbackUrl, ...(options.callbackSecret ? { secret: options.callbackSecret } : {}) };
}
