import Redis from 'ioredis';
import { ErrorCode, JobName, JobQueue, RedisKeys, ServiceError } from '@app/contracts';

/** BullMQ's largest priority (2^21); lower numbers run first. */
const LOWEST_PRIORITY = 2_097_152;
/** The job joins its owner's set; the set's size (its backlog, this job included) is the answer. */
const ADD_AND_COUNT = `
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return redis.call('SCARD', KEYS[1])`;
const STILL_QUEUED = new Set(['waiting', 'prioritized', 'delayed', 'waiting-children']);

/**
 * Fair share between API keys. Each key's waiting jobs are tracked in a Redis set (the worker
 * removes a job when it starts it). A new job's priority is 1 + the key's backlog, so the first job
 * of a quiet key overtakes the 50th of a busy one; beyond MAX_QUEUED_PER_KEY the key gets 429.
 */
export class FairShare {
  constructor(
    private readonly redis: Redis,
    private readonly queue: Pick<JobQueue<JobName.Transcribe>, 'getJobState'>,
    private readonly maxQueuedPerKey: number,
    private readonly trackingTtlS: number,
  ) {}

  /**
   * Counts the job into its owner's backlog and returns its priority. The add and the count are
   * one atomic step, so concurrent uploads of one key get distinct places; past the limit the job
   * is taken out again and the key gets 429.
   */
  async admit(owner: string, jobId: string, limited: boolean): Promise<number> {
    const key = RedisKeys.queuedByOwner(owner);
    let backlog = await this.addAndCount(key, jobId);
    if (limited && backlog > this.maxQueuedPerKey) {
      backlog = await this.prune(key);
      if (backlog > this.maxQueuedPerKey) {
        await this.redis.srem(key, jobId);
        throw new ServiceError(
          ErrorCode.TooManyQueuedJobs,
          `this API key already has ${backlog - 1} jobs waiting (MAX_QUEUED_PER_KEY=${this.maxQueuedPerKey}); wait for some to start or cancel them`,
        );
      }
    }
    return Math.min(backlog, LOWEST_PRIORITY);
  }

  /** SADD + EXPIRE + SCARD as one script: atomic like a MULTI, one command for ioredis to build. */
  private async addAndCount(key: string, jobId: string): Promise<number> {
    return Number(await this.redis.eval(ADD_AND_COUNT, 1, key, jobId, this.trackingTtlS));
  }

  async untrack(owner: string, jobId: string): Promise<void> {
    await this.redis.srem(RedisKeys.queuedByOwner(owner), jobId);
  }

  /** Drops ids that are no longer waiting (a worker died before untracking, a job expired); a job being admitted has no state yet and stays. */
  private async prune(key: string): Promise<number> {
    const ids = await this.redis.smembers(key);
    const states = await Promise.all(ids.map((id) => this.queue.getJobState(id)));
    const gone = ids.filter((_, i) => states[i] !== 'unknown' && !STILL_QUEUED.has(states[i]));
    if (gone.length > 0) await this.redis.srem(key, ...gone);
    return ids.length - gone.length;
  }
}
