import type { JobView } from './http';

/**
 * Signed webhooks (Standard Webhooks, https://www.standardwebhooks.com): queue name, event types,
 * payload and the secret format shared by the options table, the config and the API's delivery.
 */

/** The BullMQ queue of webhook deliveries (a stored contract: renaming it strands queued deliveries). */
export const WEBHOOKS_QUEUE = 'webhooks';

export const WEBHOOK_EVENT_TYPES = ['transcription.completed', 'transcription.failed', 'transcription.cancelled'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The POST body: Standard Webhooks' `type` / `timestamp` / `data` envelope around GET /jobs/:id's view. */
export interface WebhookPayload {
  type: WebhookEventType;
  /** ISO 8601, when the job ended (not when the attempt was made: it is the same in every retry) */
  timestamp: string;
  data: JobView;
}

/** One delivery: what to send where. The body is frozen at enqueue time, so every attempt sends the same bytes. */
export interface WebhookDeliveryJobData {
  /** the transcription job the event is about */
  jobId: string;
  type: WebhookEventType;
  url: string;
  /** the JSON body (a WebhookPayload) */
  body: string;
  /** callback_secret when the request gave one (kept in Redis until the delivery expires); else WEBHOOK_SECRET */
  secret?: string;
}

/** One delivery per transcription job: a fixed BullMQ job id makes enqueueing idempotent (BullMQ ids may not contain ':'). */
export const webhookDeliveryJobId = (jobId: string): string => `webhook-${jobId}`;

/** Redis keys of the webhook machinery (under the service's `tx:` prefix). */
export const WebhookRedisKeys = {
  /** how far this deployment's API processes have read the transcribe queue's event stream */
  eventsCursor: 'tx:webhooks:events-cursor',
  /** a queued job's callback (JSON WebhookTarget): a job cancelled while queued is removed with its data */
  pendingTarget: (jobId: string) => `tx:webhooks:pending:${jobId}`,
} as const;

/** Where a job's webhook goes and how it is signed (the request's secret, else WEBHOOK_SECRET). */
export interface WebhookTarget {
  url: string;
  secret?: string;
}

/** The `webhook-id` header: the same for every attempt of one delivery, so receivers can drop duplicates. */
export const webhookMessageId = (jobId: string): string => `msg_${jobId}`;

/** The event a finished job's view announces. */
export function webhookEventType(status: JobView['status']): WebhookEventType | undefined {
  if (status === 'completed') return 'transcription.completed';
  if (status === 'failed') return 'transcription.failed';
  if (status === 'cancelled') return 'transcription.cancelled';
  return undefined;
}

/**
 * A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes (32 to 88 base64
 * characters with padding).
 */
export const WEBHOOK_SECRET_PATTERN = /^whsec_(?=[A-Za-z0-9+/=]{32,88}$)(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const WEBHOOK_SECRET_EXPECTED = 'a Standard Webhooks secret: whsec_ followed by the base64 of 24 to 64 random bytes';

/** The longest callback_url accepted. */
export const CALLBACK_URL_MAX_LENGTH = 2048;
/** The form's check (scheme and length); the API then resolves the host and applies the SSRF rules. */
export const CALLBACK_URL_PATTERN = new RegExp(`^https?://[^\\s/?#]+[^\\s]{0,${CALLBACK_URL_MAX_LENGTH - 9}}$`, 'i');
