import { Logger, OnApplicationBootstrap, Inject } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { UnrecoverableError } from 'bullmq';
import Redis from 'ioredis';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import {
  decodeJobError,
  JobCancelledError,
  JobName,
  JobProgress,
  JobResultMap,
  parseTranscribeJobData,
  QueuedJob,
  RedisKeys,
  TRANSCRIBE_QUEUE,
  TranscriptionResult,
  WorkerLockDefaults,
} from '@app/contracts';
import { JobAudioSources } from '../audio-source/job-audio-sources';
import { jobFailureReason } from '../jobs/job-failure';
import { dispatchJob, JobHandler, JobHandlerRegistry, registerJobHandlers } from '../jobs/job-handlers';
import { LanguageDetectionHandler } from '../language/language-detection.handler';
import { WhisperModelsService } from '../models/whisper-models.service';
import { WORKER_REDIS } from '../worker.tokens';
import { ActiveJobsRegistry } from './active-jobs.registry';
import { JobEventsPublisher } from './job-events.publisher';
import { stageStart } from './pipeline-stages';
import { SettlingProgress } from './settling-progress';
import { PipelineHooks, TranscriptionPipeline } from './transcription-pipeline.service';

/** Takes transcription jobs from BullMQ once the default model is loaded. */
@Processor(TRANSCRIBE_QUEUE, {
  autorun: false,
  lockDuration: WorkerLockDefaults.lockDurationMs,
  stalledInterval: WorkerLockDefaults.stalledIntervalMs,
  maxStalledCount: WorkerLockDefaults.maxStalledCount,
})
export class TranscriptionProcessor extends WorkerHost implements OnApplicationBootstrap, JobHandler<JobName.Transcribe> {
  readonly jobName = JobName.Transcribe;
  private readonly logger = new Logger(TranscriptionProcessor.name);
  /** segments as they are decoded, then the end: for streaming readers in the API */
  private readonly events: JobEventsPublisher;
  private readonly handlers: JobHandlerRegistry;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(WORKER_REDIS) private readonly redis: Redis,
    private readonly pipeline: TranscriptionPipeline,
    private readonly models: WhisperModelsService,
    private readonly activeJobs: ActiveJobsRegistry,
    languageDetection: LanguageDetectionHandler,
    private readonly audioSources: JobAudioSources,
  ) {
    super();
    this.events = new JobEventsPublisher(redis, config.resultTtlS, this.logger);
    // every kind of job on this queue with its one handler: checked as Nest builds the worker, so a
    // kind without a handler (or with two) stops the worker before it takes a job
    this.handlers = registerJobHandlers([this, languageDetection]);
  }

  async onApplicationBootstrap(): Promise<void> {
    // load the default model first so the first job does not pay for it and a broken model shows at boot
    try {
      const model = await this.models.acquire(undefined);
      this.logger.log(`default model ${model.label} ready`);
    } catch (error) {
      this.logger.warn(`default model ${this.config.whisperModel} not loaded at boot: ${(error as Error).message}`);
    }
    this.worker.concurrency = this.config.workerConcurrency;
    void this.worker.run().catch((error: Error) => this.logger.error(`worker stopped: ${error.message}`));
    this.logger.log(`consuming queue "${TRANSCRIBE_QUEUE}" (concurrency ${this.config.workerConcurrency})`);
  }

  /** BullMQ's entry for every job on the queue: each goes to the handler of its kind. */
  process(job: QueuedJob): Promise<JobResultMap[JobName]> {
    return dispatchJob(this.handlers, job);
  }

  /** A transcription job: its audio, read from its source as the decoder takes it, through the pipeline to the result. */
  async handle(job: QueuedJob<JobName.Transcribe>): Promise<TranscriptionResult> {
    const jobId = String(job.id);
    const controller = this.activeJobs.start(jobId);
    const started = Date.now();
    const events = this.events.forJob(jobId);
    // audio_url is checked with the rest of the job's data before the source is read
    const audio = this.audioSources.forJob(jobId, job.data.options?.audioUrl);
    // progress goes out as it settles, never after the job's end
    const progressWrites = new SettlingProgress((progress) => {
      job.updateProgress(progress).catch(() => undefined);
      events.progress(progress);
    });
    try {
      const data = parseTranscribeJobData(job.data);
      // no longer waiting (it stops counting against its key's fair share), and not cancelled meanwhile:
      // asked beside the first audio read instead of before it; a cancel mark aborts the job as a
      // cancel message would (every stage checks the signal), and no result is returned before the answer
      const cancelCheck = Promise.all([
        data.owner ? this.redis.srem(RedisKeys.queuedByOwner(data.owner), jobId) : undefined,
        this.redis.exists(RedisKeys.cancelled(jobId)),
      ]).then(([, cancelled]) => {
        if (cancelled) controller.abort();
      });
      const run = this.pipeline.run(jobId, data, audio.open(), {
        signal: controller.signal,
        ...this.progressReporter(progressWrites),
        onSegments: (segments) => events.segments(segments),
      });
      // the run's rejection is read below, after the check: marked handled now so it never counts as unhandled meanwhile
      run.catch(() => undefined);
      // a failed check (Redis gone) is the job's error, and the run stops
      await cancelCheck.catch((error: unknown) => {
        controller.abort();
        throw error;
      });
      const result = await run;
      if (controller.signal.aborted) throw new JobCancelledError();
      result.timings_ms = { queued: Math.max(0, started - data.acceptedAt), ...result.timings_ms };
      // the audio goes and the end is announced in the same round trip; both before BullMQ's completion
      await Promise.all([audio.release(), events.completed(result)]);
      const doneLine = `job ${jobId} done in ${Date.now() - started} ms (${result.duration} s audio, ${result.segments.length} segments)`;
      // written once BullMQ's completion is on its way (a synchronous write to stdout, ~0.3 ms); the job's log context goes with it
      setImmediate(() => this.logger.log(doneLine));
      return result;
    } catch (error) {
      // every failure is final: retrying bad audio or a missing model only delays the answer
      const reason = jobFailureReason(this.logger, jobId, error);
      await Promise.all([audio.release().catch(() => undefined), events.failed(decodeJobError(reason))]);
      throw new UnrecoverableError(reason);
    } finally {
      progressWrites.stop();
      this.activeJobs.finish(jobId);
    }
  }

  /**
   * Progress only when it moved, so whisper's and the downloader's callbacks don't flood Redis; it
   * settles (SettlingProgress) and goes to the job (polling) and its event stream (GET /jobs/:id/events).
   */
  private progressReporter(progressWrites: SettlingProgress): Pick<PipelineHooks, 'onProgress' | 'onModelDownload'> {
    let last: JobProgress = { stage: 'queued', percent: -1 };
    const write = (progress: JobProgress) => {
      last = progress;
      progressWrites.push(progress);
    };
    return {
      onProgress: (stage, percent) => {
        const clamped = Math.max(0, Math.min(100, Math.round(percent)));
        if (stage === last.stage && clamped <= last.percent) return;
        write({ stage, percent: clamped });
      },
      onModelDownload: (download) => {
        const previous = last.stage === 'downloading_model' ? last.download : undefined;
        const moved = !previous || previous.file !== download.file || (download.percent ?? 0) > (previous.percent ?? 0) ||
          (download.percent === undefined && download.received_bytes - previous.received_bytes >= 1_000_000);
        if (moved) write({ stage: 'downloading_model', percent: stageStart('downloading_model'), download });
      },
    };
  }
}
