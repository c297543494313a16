import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import Redis from 'ioredis';
import { AudioInput, decodeAudio, SAMPLE_RATE } from '@app/audio';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import {
  DetectLanguageJobData,
  ErrorCode,
  JobCancelledError,
  JobName,
  LanguageDetectionResult,
  parseDetectLanguageJobData,
  QueuedJob,
  rankLanguages,
  RedisKeys,
  round3,
  ServiceError,
  throwIfCancelled,
} from '@app/contracts';
import { StageTimings } from '../jobs/stage-timings';
import { JobAudioSources } from '../audio-source/job-audio-sources';
import { resolveWhisperModel } from '@app/whisper';
import { JobHandler } from '../jobs/job-handlers';
import { jobFailureReason } from '../jobs/job-failure';
import { JobLeases } from '../models/model-cache.service';
import { inferenceThreads } from '../models/model-loading';
import { WhisperModelsService } from '../models/whisper-models.service';
import { ActiveJobsRegistry } from '../transcription/active-jobs.registry';
import { SpeechDetectionService } from '../vad/speech-detection.service';
import { WORKER_REDIS } from '../worker.tokens';

/** VAD looks for the first speech in this much audio; a file silent that long counts as no speech. */
export const FIRST_SPEECH_SEARCH_SECONDS = 600;

/**
 * POST /detect-language's jobs: decode → VAD (first speech) → whisper's language probabilities on up
 * to 30 s from there. No transcription, no alignment, no diarization.
 */
@Injectable()
export class LanguageDetectionHandler implements JobHandler<JobName.DetectLanguage> {
  readonly jobName = JobName.DetectLanguage;
  private readonly logger = new Logger(LanguageDetectionHandler.name);

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly models: WhisperModelsService,
    private readonly speech: SpeechDetectionService,
    private readonly activeJobs: ActiveJobsRegistry,
    private readonly audioSources: JobAudioSources,
  ) {}

  async handle(job: QueuedJob<JobName.DetectLanguage>): Promise<LanguageDetectionResult> {
    const jobId = String(job.id);
    const controller = this.activeJobs.start(jobId);
    const leases = new JobLeases();
    const audio = this.audioSources.forJob(jobId, job.data.options?.audioUrl);
    try {
      const data = parseDetectLanguageJobData(job.data);
      if (data.owner) await this.redis.srem(RedisKeys.queuedByOwner(data.owner), jobId);
      if (await this.redis.exists(RedisKeys.cancelled(jobId))) throw new JobCancelledError();
      const result = await this.detect(jobId, data, audio.open(), leases, controller.signal);
      await audio.release();
      const best = result.languages[0];
      this.logger.log(`job ${jobId}: language ${best ? `${best.language} (p=${best.probability})` : 'none (no speech)'}`);
      return result;
    } catch (error) {
      await audio.release().catch(() => undefined);
      throw new UnrecoverableError(jobFailureReason(this.logger, jobId, error));
    } finally {
      leases.releaseAll();
      this.activeJobs.finish(jobId);
    }
  }

  private async detect(jobId: string, data: DetectLanguageJobData, audio: AudioInput, leases: JobLeases, signal: AbortSignal): Promise<LanguageDetectionResult> {
    const stageTimings = new StageTimings();
    const timings = stageTimings.ms;
    const timed = <T>(stage: string, work: () => Promise<T>): Promise<T> => stageTimings.time(stage, work);
    const decoded = await timed('decode', () =>
      decodeAudio(audio, { maxSeconds: this.config.maxAudioSeconds, timeoutMs: this.config.decodeTimeoutS * 1000, signal }),
    );
    let speechStart = 0;
    if (data.options.vad) {
      const searched = decoded.pcm.subarray(0, FIRST_SPEECH_SEARCH_SECONDS * SAMPLE_RATE);
      const chunks = await timed('vad', () => this.speech.chunks(searched, () => undefined, signal, leases));
      if (chunks.length === 0) {
        // nothing to ask whisper: the model is named, not loaded
        const name = resolveWhisperModel(data.options.whisperModel ?? this.config.whisperModel, this.config.computeType, this.config.modelDir).name;
        return { job_id: jobId, model: name, duration: round3(decoded.durationSeconds), speech_start: null, languages: [], timings_ms: timings };
      }
      speechStart = chunks[0].start;
    }
    throwIfCancelled(signal);
    const model = leases.hold(await timed('load_model', () => this.models.lease(data.options.whisperModel)));
    if (!model.handle.isMultilingual) {
      throw new ServiceError(ErrorCode.ValidationFailed, `${model.spec.name} is English-only: language detection needs a multilingual model`, 'whisper_model');
    }
    const firstSpeech = decoded.pcm.subarray(Math.round(speechStart * SAMPLE_RATE));
    const probabilities = await timed('detect_language', () => model.handle.detectLanguage(firstSpeech, { threads: inferenceThreads(this.config) }));
    return {
      job_id: jobId,
      model: model.spec.name,
      duration: round3(decoded.durationSeconds),
      speech_start: round3(speechStart),
      languages: rankLanguages(probabilities),
      timings_ms: timings,
    };
  }
}
