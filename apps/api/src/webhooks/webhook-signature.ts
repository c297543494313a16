import { createHmac } from 'node:crypto';

/** Standard Webhooks signing (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md). */

const SECRET_PREFIX = 'whsec_';

/** The HMAC key: the base64 after `whsec_`, decoded. */
export function webhookKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
}

/** `webhook-signature`: `v1,` + base64 HMAC-SHA256 of `<id>.<timestamp>.<body>` under the secret's key. */
export function signWebhook(secret: string, messageId: string, timestampS: number, body: string): string {
  const digest = createHmac('sha256', webhookKey(secret)).update(`${messageId}.${timestampS}.${body}`, 'utf8').digest('base64');
  return `v1,${digest}`;
}

/** The three headers of one attempt; the timestamp is the attempt's own (receivers reject old ones). */
export function webhookHeaders(secret: string, messageId: string, body: string, now: Date = new Date()): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(secret, messageId, timestamp, body),
  };
}
