import type Redis from 'ioredis';
import { UnrecoverableError } from 'bullmq';
import { loadConfig } from '@app/config';
import { decodeJobError, ErrorCode, JobCancelledError, JobName, QueuedJob, resolveTranscribeForm, TranscribeFormFields, TranscriptionResult } from '@app/contracts';
import { LanguageDetectionHandler } from '../language/language-detection.handler';
import { ActiveJobsRegistry } from './active-jobs.registry';
import { TranscriptionProcessor } from './transcription.processor';
import type { PipelineHooks, TranscriptionPipeline } from './transcription-pipeline.service';

/** A Redis that answers the processor's calls; the cancel mark's EXISTS answers after `markDelayMs`. */
function fakeRedis(cancelled: boolean, markDelayMs = 0) {
  const multi = () => ({ xadd: () => multi(), expire: () => multi(), exec: async () => [] });
  return {
    srem: async () => 1,
    exists: () => new Promise((resolve) => setTimeout(() => resolve(cancelled ? 1 : 0), markDelayMs)),
    multi,
  } as unknown as Redis;
}

/** A pipeline that finishes after `ms` unless its job's signal aborts first: then it throws as a stage does (throwIfCancelled). */
function pipelineTaking(ms: number) {
  const seen: { aborted?: boolean } = {};
  const pipeline = {
    run: (jobId: string, _data: unknown, _audio: unknown, hooks: PipelineHooks) =>
      new Promise<TranscriptionResult>((resolve, reject) => {
        const timer = setTimeout(() => resolve({ job_id: jobId, duration: 1, language: 'en', segments: [], timings_ms: {} } as unknown as TranscriptionResult), ms);
        hooks.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          seen.aborted = true;
          reject(new JobCancelledError());
        });
      }),
  } as unknown as TranscriptionPipeline;
  return { pipeline, seen };
}

function processor(redis: Redis, pipeline: TranscriptionPipeline) {
  const languageDetection = { jobName: JobName.DetectLanguage } as unknown as LanguageDetectionHandler;
  const audioSources = { forJob: () => ({ open: async function* () {}, release: async () => undefined }) };
  return new TranscriptionProcessor(loadConfig({}), redis, pipeline, {} as never, new ActiveJobsRegistry(), languageDetection, audioSources as never);
}

const job = (id: string) =>
  ({
    id,
    data: { options: resolveTranscribeForm({} as TranscribeFormFields).options, sizeBytes: 10, acceptedAt: Date.now(), owner: 'anonymous' },
    updateProgress: async () => undefined,
  }) as unknown as QueuedJob<JobName.Transcribe>;

const cancelCode = async (promise: Promise<unknown>) => {
  const failure = await promise.catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(UnrecoverableError);
  return decodeJobError((failure as Error).message).code;
};

describe('TranscriptionProcessor: the cancel mark, checked beside the first audio read', () => {
  it('a job without a mark returns its result', async () => {
    const { pipeline } = pipelineTaking(5);
    await expect(processor(fakeRedis(false), pipeline).handle(job('job-ok'))).resolves.toMatchObject({ job_id: 'job-ok' });
  });

  it('a mark that answers while the pipeline runs aborts it: cancelled, no result', async () => {
    const { pipeline, seen } = pipelineTaking(200);
    expect(await cancelCode(processor(fakeRedis(true, 5), pipeline).handle(job('job-marked')))).toBe(ErrorCode.JobCancelled);
    expect(seen.aborted).toBe(true);
  });

  it('a mark that answers after the pipeline finished still cancels: the result is never returned', async () => {
    const { pipeline } = pipelineTaking(1);
    expect(await cancelCode(processor(fakeRedis(true, 30), pipeline).handle(job('job-late-mark')))).toBe(ErrorCode.JobCancelled);
  });
});
