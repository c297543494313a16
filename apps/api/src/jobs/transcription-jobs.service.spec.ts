import { Job, QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import type { BlobStore } from '@app/blob-store';
import { loadConfig } from '@app/config';
import { encodeJobError, ErrorCode, JobName, JobQueue } from '@app/contracts';
import { TranscriptionJobsService } from './transcription-jobs.service';

type Queue = JobQueue;

/** A job that finishes between the API's two reads (snapshot, then state). */
function racingQueue(final: Partial<Job>): Queue {
  let reads = 0;
  const snapshot = { name: JobName.Transcribe, progress: { percent: 40, stage: 'transcribe' }, getState: async () => 'failed' };
  return {
    getJob: async () => (reads++ === 0 ? snapshot : { ...snapshot, ...final }),
  } as unknown as Queue;
}

describe('TranscriptionJobsService.view', () => {
  const service = (queue: Queue) =>
    new TranscriptionJobsService(loadConfig({}), queue, {} as QueueEvents, { exists: async () => 0 } as unknown as Redis, {} as BlobStore);

  it('reports why a job failed even when it failed between the snapshot and the state read', async () => {
    const view = await service(racingQueue({ failedReason: encodeJobError(ErrorCode.JobCancelled, 'job was cancelled') })).view('job-1', { kind: 'admin' });
    expect(view).toMatchObject({ status: 'cancelled', error: { code: 'job_cancelled' } });
  });

  it('returns the result of a job that completed between the two reads', async () => {
    const queue = racingQueue({ returnvalue: { job_id: 'job-2' } });
    (queue.getJob as unknown as () => Promise<unknown>) = (() => {
      let reads = 0;
      const snapshot = { name: JobName.Transcribe, progress: 90, getState: async () => 'completed' };
      return async () => (reads++ === 0 ? snapshot : { ...snapshot, returnvalue: { job_id: 'job-2' } });
    })();
    const view = await service(queue).view('job-2', { kind: 'admin' });
    expect(view).toMatchObject({ status: 'completed', progress: 100, result: { job_id: 'job-2' } });
  });
});
