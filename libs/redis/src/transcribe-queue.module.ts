import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { SERVICE_CONFIG, ServiceConfig, ServiceConfigModule } from '@app/config';
import { TRANSCRIBE_QUEUE } from '@app/contracts';
import { redisOptionsFromUrl } from './redis-connection';

/**
 * BullMQ on REDIS_URL (through REDIS_SENTINELS when set) with the transcribe queue registered: the
 * producer (API) and consumers (workers) share it, under QUEUE_PREFIX ({bull} on a Redis Cluster).
 */
@Module({
  imports: [
    ServiceConfigModule,
    BullModule.forRootAsync({
      inject: [SERVICE_CONFIG],
      useFactory: (config: ServiceConfig) => ({ connection: redisOptionsFromUrl(config.redisUrl), prefix: config.queuePrefix }),
    }),
    BullModule.registerQueue({ name: TRANSCRIBE_QUEUE }),
  ],
  exports: [BullModule],
})
export class TranscribeQueueModule {}
