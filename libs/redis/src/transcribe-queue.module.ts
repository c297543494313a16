import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { SERVICE_CONFIG, ServiceConfig, ServiceConfigModule } from '@app/config';
import { TRANSCRIBE_QUEUE } from '@app/contracts';
import { RedisOptions } from 'ioredis';
import { redisOptionsFromUrl } from './redis-connection';

/**
 * What every BullMQ Queue, QueueEvents and Worker of the service needs: REDIS_URL's connection
 * (through REDIS_SENTINELS when set) and QUEUE_PREFIX. A queue object opened with another prefix
 * would see another, empty queue.
 */
export function bullQueueOptions(config: Pick<ServiceConfig, 'redisUrl' | 'queuePrefix'>): { connection: RedisOptions; prefix: string } {
  return { connection: redisOptionsFromUrl(config.redisUrl), prefix: config.queuePrefix };
}

/**
 * BullMQ on REDIS_URL (through REDIS_SENTINELS when set) with the transcribe queue registered: the
 * producer (API) and consumers (workers) share it, under QUEUE_PREFIX ({bull} on a Redis Cluster).
 */
@Module({
  imports: [
    ServiceConfigModule,
    BullModule.forRootAsync({
      inject: [SERVICE_CONFIG],
      useFactory: (config: ServiceConfig) => bullQueueOptions(config),
    }),
    BullModule.registerQueue({ name: TRANSCRIBE_QUEUE }),
  ],
  exports: [BullModule],
})
export class TranscribeQueueModule {}
