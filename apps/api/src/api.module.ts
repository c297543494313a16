import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import Redis from 'ioredis';
import { BlobStore, createBlobStore } from '@app/blob-store';
import { SERVICE_CONFIG, ServiceConfig, ServiceConfigModule } from '@app/config';
import { createRedis, TranscribeQueueModule } from '@app/redis';
import { GcController } from './admin/gc.controller';
import { GcService } from './admin/gc.service';
import { QueueBoardModule } from './admin/queue-board.module';
import { API_REDIS, API_SUBSCRIBER } from './api.tokens';
import { AccessGuard } from './auth/access.guard';
import { Credentials } from './auth/credentials';
import { DetectLanguageController } from './detect-language/detect-language.controller';
import { ErrorBodyFilter } from './common/error-body.filter';
import { createValidationPipe } from './common/validation';
import { HealthController } from './health/health.controller';
import { JobsController } from './jobs/jobs.controller';
import { METRICS_PROVIDERS, MetricsController } from './metrics';
import { MODEL_MANAGEMENT } from './models';
import { TranscriptionJobsService } from './jobs/transcription-jobs.service';
import { OpenAiController } from './openai/openai.controller';
import { TranscribeController } from './transcribe/transcribe.controller';
import { WorkerRegistry } from './workers/worker-registry.service';
import { WEBHOOK_PROVIDERS } from './webhooks';
import { AUDIO_BLOB_STORE } from './upload';
import { RATE_LIMIT_PROVIDERS } from './rate-limit';

@Module({
  imports: [
    ServiceConfigModule,
    TranscribeQueueModule,
    QueueBoardModule,
  ],
  controllers: [TranscribeController, JobsController, GcController, HealthController, OpenAiController, DetectLanguageController, MetricsController, ...MODEL_MANAGEMENT.controllers],
  providers: [
    {
      provide: AUDIO_BLOB_STORE,
      inject: [SERVICE_CONFIG],
      // uploads stream into it as they arrive (AUDIO_REDIS_URL: an in-memory Redis keeps audio off disks);
      // fail fast like the API's other connection: an upload gets a 503, not a hang
      useFactory: (config: ServiceConfig): BlobStore =>
        createBlobStore(config, (url) => createRedis(url, 'api-audio', { maxRetriesPerRequest: 1, commandTimeout: 5_000 })),
    },
    {
      provide: API_REDIS,
      inject: [SERVICE_CONFIG],
      // fail fast: a request should get a 503, not wait for Redis to come back
      useFactory: (config: ServiceConfig): Redis =>
        createRedis(config.redisUrl, 'api', { maxRetriesPerRequest: 1, commandTimeout: 5_000, enableAutoPipelining: true }),
    },
    {
      provide: API_SUBSCRIBER,
      inject: [SERVICE_CONFIG],
      useFactory: (config: ServiceConfig): Redis => createRedis(config.redisUrl, 'api-subscriber'),
    },
    { provide: APP_FILTER, useClass: ErrorBodyFilter },
    { provide: APP_PIPE, useFactory: createValidationPipe },
    {
      provide: Credentials,
      inject: [SERVICE_CONFIG],
      useFactory: (config: ServiceConfig) => new Credentials(config.apiKeys, config.adminToken),
    },
    // before AccessGuard (global guards run in this order): refused keys count against their IP too
    ...RATE_LIMIT_PROVIDERS,
    { provide: APP_GUARD, useClass: AccessGuard },
    WorkerRegistry,
    TranscriptionJobsService,
    GcService,
    ...WEBHOOK_PROVIDERS,
    ...METRICS_PROVIDERS,
    ...MODEL_MANAGEMENT.providers,
  ],
})
export class ApiModule {}
