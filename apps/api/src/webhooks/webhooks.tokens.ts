/** The BullMQ Queue of webhook deliveries (producer side; the consumer is WebhookDeliveryWorker). */
export const WEBHOOK_DELIVERIES = Symbol('WEBHOOK_DELIVERIES');
/** The SSRF policy of this process's outbound requests (OUTBOUND_ALLOWED_HOSTS). */
export const OUTBOUND_POLICY = Symbol('OUTBOUND_POLICY');
