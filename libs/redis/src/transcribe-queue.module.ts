import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { SERVICE_CONFIG, ServiceConfig, ServiceConfigModule } from '@app/config';
import { TRANSCRIBE_QUEUE } from '@app/contracts';
import { redisOptionsFromUrl } from './redis-connection';

/** BullMQ on REDIS_URL with the transcribe queue registered: the producer (API) and consumers (workers) share it. */
@Module({
  imports: [
    ServiceConfigModule,
    BullModule.forRootAsync({
      inject: [SERVICE_CONFIG],
      useFactory: (config: ServiceConfig) => ({ connection: redisOptionsFromUrl(config.redisUrl) }),
    }),
    BullModule.registerQueue({ name: TRANSCRIBE_QUEUE }),
  ],
  exports: [BullModule],
})
export class TranscribeQueueModule {}
