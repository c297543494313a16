import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { SERVICE_CONFIG, ServiceConfig, ServiceConfigModule } from '@app/config';
import { TRANSCRIBE_QUEUE } from '@app/contracts';
import { Cluster, RedisOptions } from 'ioredis';
import { clusterFor, createRedisClient, isClusterClient, redisOptionsFromUrl } from './redis-connection';

/** One cluster client per process and URL for BullMQ (see bullQueueOptions). */
const bullClusters = new Map<string, Cluster>();

/**
 * What every BullMQ Queue, QueueEvents and Worker of the service needs: REDIS_URL's connection
 * (through REDIS_SENTINELS when set) and QUEUE_PREFIX. A queue object opened with another prefix
 * would see another, empty queue. With REDIS_CLUSTER_NODES it is a Cluster client: BullMQ builds
 * only plain connections from options. BullMQ never closes a client it is handed and duplicates it
 * for blocking reads, so one per process serves all queues (the process's exit closes it).
 */
export function bullQueueOptions(config: Pick<ServiceConfig, 'redisUrl' | 'queuePrefix'>): { connection: RedisOptions | Cluster; prefix: string } {
  if (clusterFor(config.redisUrl)) {
    let shared = bullClusters.get(config.redisUrl);
    if (!shared || shared.status === 'end') {
      const client = createRedisClient(config.redisUrl, 'bullmq');
      if (!isClusterClient(client)) throw new Error('expected a Redis Cluster client');
      shared = client;
      bullClusters.set(config.redisUrl, shared);
    }
    return { connection: shared, prefix: config.queuePrefix };
  }
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
