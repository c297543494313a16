import { Job } from 'bullmq';
import Redis from 'ioredis';
import type { BlobStore } from '@app/blob-store';
import { loadConfig } from '@app/config';
import { encodeJobError, ErrorCode, JobName, JobQueue } from '@app/contracts';
import { ApiMetrics } from '../metrics/api-metrics';
import type { StoredUpload } from '../upload/stored-upload';
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
    new TranscriptionJobsService(loadConfig({}), queue, {} as Redis, { exists: async () => 0 } as unknown as Redis, {} as BlobStore, new ApiMetrics());

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

describe('TranscriptionJobsService.enqueue: fair share only between API keys', () => {
  /** Records the options of each add and the scripts the fair share runs. */
  function recorders() {
    const adds: Record<string, unknown>[] = [];
    const queue = {
      add: async (_name: string, _data: unknown, options: Record<string, unknown>) => (adds.push(options), { id: options.jobId }),
    } as unknown as Queue;
    const scripts: string[] = [];
    const redis = {
      eval: async (_script: string, _keys: number, key: string) => (scripts.push(key), 3),
      zadd: async () => 1,
      expire: async () => 1,
      zremrangebyscore: async () => 0,
    } as unknown as Redis;
    return { adds, queue, scripts, redis };
  }
  const upload = (jobId: string): StoredUpload => ({ jobId, originalname: 'a.wav', mimetype: 'audio/wav', size: 10, claimed: false });

  it('without API_KEYS: no priority and no per-owner tracking (arrival order, one round trip less)', async () => {
    const { adds, queue, scripts, redis } = recorders();
    const jobs = new TranscriptionJobsService(loadConfig({}), queue, {} as Redis, redis, {} as BlobStore, new ApiMetrics());
    await expect(jobs.enqueue(JobName.Transcribe, upload('job-open'), {} as never, false, { kind: 'anonymous', owner: 'anonymous' })).resolves.toEqual({ kind: 'accepted', jobId: 'job-open' });
    expect(scripts).toEqual([]);
    expect(adds[0]).toMatchObject({ jobId: 'job-open' });
    expect(adds[0]).not.toHaveProperty('priority');
  });

  it('with API_KEYS: the key’s backlog (1 + waiting jobs) is the priority', async () => {
    const { adds, queue, scripts, redis } = recorders();
    const jobs = new TranscriptionJobsService(loadConfig({ API_KEYS: 'k1' }), queue, {} as Redis, redis, {} as BlobStore, new ApiMetrics());
    await jobs.enqueue(JobName.Transcribe, upload('job-key'), {} as never, false, { kind: 'key', owner: 'k1' });
    expect(scripts).toEqual(['tx:queued:k1']);
    expect(adds[0]).toMatchObject({ jobId: 'job-key', priority: 3 });
  });
});
