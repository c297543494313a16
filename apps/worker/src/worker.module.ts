import { Module } from '@nestjs/common';
import Redis from 'ioredis';
import { SERVICE_CONFIG, ServiceConfig, ServiceConfigModule } from '@app/config';
import { createRedis, TranscribeQueueModule } from '@app/redis';
import { ControlChannelService } from './control/control-channel.service';
import { HeartbeatService } from './control/heartbeat.service';
import { WORKER_ID } from './control/worker-identity';
import { AlignmentModelsService } from './alignment/alignment-models.service';
import { WordAlignmentService } from './alignment/word-alignment.service';
import { DiarizationModelsService } from './diarization/diarization-models.service';
import { SpeakerDiarizationService } from './diarization/speaker-diarization.service';
import { JobAudioSources } from './audio-source/job-audio-sources';
import { LanguageDetectionHandler } from './language/language-detection.handler';
import { WORKER_METRICS_PROVIDERS } from './metrics';
import { ModelCacheService } from './models/model-cache.service';
import { SpeechDetectionService } from './vad/speech-detection.service';
import { WhisperModelsService } from './models/whisper-models.service';
import { ActiveJobsRegistry } from './transcription/active-jobs.registry';
import { TranscriptionPipeline } from './transcription/transcription-pipeline.service';
import { TranscriptionProcessor } from './transcription/transcription.processor';
import { JobEndAnnouncer } from './jobs/job-end-announcer';
import { WORKER_REDIS } from './worker.tokens';

@Module({
  imports: [
    ServiceConfigModule,
    TranscribeQueueModule,
  ],
  providers: [
    {
      provide: WORKER_REDIS,
      inject: [SERVICE_CONFIG],
      useFactory: (config: ServiceConfig): Redis => createRedis(config.redisUrl, `worker-${WORKER_ID}`, { enableAutoPipelining: true }),
    },
    JobAudioSources,
    ModelCacheService,
    WhisperModelsService,
    AlignmentModelsService,
    WordAlignmentService,
    DiarizationModelsService,
    SpeakerDiarizationService,
    SpeechDetectionService,
    ActiveJobsRegistry,
    TranscriptionPipeline,
    LanguageDetectionHandler,
    TranscriptionProcessor,
    JobEndAnnouncer,
    HeartbeatService,
    ControlChannelService,
    ...WORKER_METRICS_PROVIDERS,
  ],
})
export class WorkerModule {}
