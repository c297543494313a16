export { WEBHOOK_PROVIDERS } from './webhooks.providers';
export { CallbackCheck } from './callback-check.service';
