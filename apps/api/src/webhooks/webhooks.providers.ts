import { Provider } from '@nestjs/common';
import { Queue } from 'bullmq';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { WEBHOOKS_QUEUE } from '@app/contracts';
import { OutboundPolicy } from '@app/outbound';
import { bullQueueOptions } from '@app/redis';
import { CallbackCheck } from './callback-check.service';
import { JobEndWatcher } from './job-end-watcher.service';
import { WebhookDeliveryWorker } from './webhook-delivery.worker';
import { OUTBOUND_POLICY, WEBHOOK_DELIVERIES } from './webhooks.tokens';

/** Everything webhooks need in the API module (registered there in one line: they use its job service). */
export const WEBHOOK_PROVIDERS: Provider[] = [
  {
    provide: OUTBOUND_POLICY,
    inject: [SERVICE_CONFIG],
    useFactory: (config: ServiceConfig) => new OutboundPolicy(config.outboundAllowedHosts),
  },
  {
    provide: WEBHOOK_DELIVERIES,
    inject: [SERVICE_CONFIG],
    useFactory: (config: ServiceConfig) => new Queue(WEBHOOKS_QUEUE, bullQueueOptions(config)),
  },
  CallbackCheck,
  JobEndWatcher,
  WebhookDeliveryWorker,
];
