import { UnrecoverableError } from 'bullmq';
import { loadConfig } from '@app/config';
import { decodeJobError, ErrorCode, JobName, QueuedJob } from '@app/contracts';
import { TranscriptionProcessor } from '../transcription/transcription.processor';
import { dispatchJob, JobHandler, registerJobHandlers } from './job-handlers';

/** A job kind the map does not have yet (as a webhook delivery would be before its entry). */
const WEBHOOK = 'deliver_webhook' as JobName;

class TranscribeHandler implements JobHandler<JobName.Transcribe> {
  readonly jobName = JobName.Transcribe;
  handle = jest.fn(async (job: QueuedJob<JobName.Transcribe>) => ({ job_id: String(job.id) }) as never);
}
class OtherTranscribeHandler extends TranscribeHandler {}
class DetectHandler implements JobHandler<JobName.DetectLanguage> {
  readonly jobName = JobName.DetectLanguage;
  handle = jest.fn(async (job: QueuedJob<JobName.DetectLanguage>) => ({ job_id: String(job.id) }) as never);
}
class WebhookHandler {
  readonly jobName = WEBHOOK;
  handle = jest.fn(async () => ({}) as never);
}

describe('registerJobHandlers: every job name has exactly one handler', () => {
  it('pairs each name with its handler', () => {
    const handler = new TranscribeHandler();
    const detect = new DetectHandler();
    expect(registerJobHandlers([handler, detect])).toEqual({ [JobName.Transcribe]: handler, [JobName.DetectLanguage]: detect });
  });

  it('refuses a name without a handler', () => {
    expect(() => registerJobHandlers([new TranscribeHandler()], [JobName.Transcribe, WEBHOOK])).toThrow('job "deliver_webhook" has no handler');
    expect(() => registerJobHandlers([])).toThrow('job "transcribe" has no handler');
  });

  it('refuses a name with two handlers, naming them', () => {
    expect(() => registerJobHandlers([new TranscribeHandler(), new OtherTranscribeHandler()])).toThrow(
      'job "transcribe" has 2 handlers (TranscribeHandler, OtherTranscribeHandler)',
    );
  });

  it('refuses a handler for a name the job map does not have', () => {
    expect(() => registerJobHandlers([new TranscribeHandler(), new WebhookHandler() as unknown as JobHandler])).toThrow(
      'WebhookHandler handles "deliver_webhook", which is not a job name',
    );
  });

  it('the worker registers a handler for every job name (the check its boot runs)', () => {
    // constructing the queue's consumer runs registerJobHandlers over every JobName: a name added to
    // the map without a handler makes this throw, as it stops the worker's boot
    const languageDetection = { jobName: JobName.DetectLanguage, handle: jest.fn() } as never;
    const build = () => new TranscriptionProcessor(loadConfig({}), {} as never, {} as never, {} as never, {} as never, languageDetection, {} as never);
    expect(build).not.toThrow();
    expect(build().jobName).toBe(JobName.Transcribe);
  });
});

describe('dispatchJob', () => {
  it('runs a job with the handler of its kind', async () => {
    const handler = new TranscribeHandler();
    const job = { id: 'job-1', name: JobName.Transcribe, data: {} } as unknown as QueuedJob;
    const detect = new DetectHandler();
    const registry = registerJobHandlers([handler, detect]);
    await expect(dispatchJob(registry, job)).resolves.toEqual({ job_id: 'job-1' });
    expect(handler.handle).toHaveBeenCalledWith(job);
    const detection = { id: 'job-3', name: JobName.DetectLanguage, data: {} } as unknown as QueuedJob;
    await expect(dispatchJob(registry, detection)).resolves.toEqual({ job_id: 'job-3' });
    expect(detect.handle).toHaveBeenCalledWith(detection);
    expect(handler.handle).toHaveBeenCalledTimes(1);
  });

  it('fails a job of a kind this worker has no handler for, for good', async () => {
    const job = { id: 'job-2', name: WEBHOOK, data: {} } as unknown as QueuedJob;
    const failure = await dispatchJob(registerJobHandlers([new TranscribeHandler(), new DetectHandler()]), job).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnrecoverableError);
    expect(decodeJobError((failure as Error).message)).toMatchObject({ code: ErrorCode.Internal, message: 'this worker has no handler for job "deliver_webhook"' });
  });
});
