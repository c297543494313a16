import { JobView, TranscribeOptions, WebhookDeliveryJobData, WebhookPayload, webhookEventType } from '@app/contracts';

/**
 * The delivery for a job that ended: its event type, URL, frozen body and the request's secret (if
 * it gave one). undefined when the job asked for no webhook or has not ended.
 */
export function webhookDelivery(
  jobId: string,
  options: Pick<TranscribeOptions, 'callbackUrl' | 'callbackSecret'>,
  view: JobView,
  finishedOn: number | undefined,
): WebhookDeliveryJobData | undefined {
  const type = webhookEventType(view.status);
  if (!options.callbackUrl || !type) return undefined;
  const payload: WebhookPayload = { type, timestamp: new Date(finishedOn ?? Date.now()).toISOString(), data: view };
  return {
    jobId,
    type,
    url: options.callbackUrl,
    body: JSON.stringify(payload),
    ...(options.callbackSecret ? { secret: options.callbackSecret } : {}),
  };
}
