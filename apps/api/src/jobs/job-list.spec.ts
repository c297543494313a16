import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { JobListKeys, JobName, RedisKeys } from '@app/contracts';
import { JobIndex } from './job-index';
import { JobLister, ListedQueue } from './job-list';

// a real Redis: TEST_REDIS_URL's database (every key here is this spec's own: random owner, job ids and queue tag)
const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/10';

/**
 * The slot a Redis Cluster is sure to put a key in, for comparing: its hash tag when it has one,
 * else the key itself (two different untagged keys may share a slot, but nothing guarantees it).
 */
function slotOf(key: string): string {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  return close > open + 1 ? `{${key.slice(open + 1, close)}}` : key;
}

/**
 * The API's connection as a cluster client treats batches: a pipeline whose keys may span slots is
 * refused (ioredis' Cluster rejects it), single commands go through. Records what was sent.
 */
function clusterLike(redis: Redis) {
  const pipelines: string[][] = [];
  const gets: string[] = [];
  const client = {
    pipeline() {
      const keys: string[] = [];
      const batch = redis.pipeline();
      const recorder = {
        hmget(key: string, ...fields: string[]) {
          keys.push(key);
          batch.hmget(key, ...fields);
          return recorder;
        },
        get(key: string) {
          keys.push(key);
          batch.get(key);
          return recorder;
        },
        async exec() {
          pipelines.push(keys);
          if (new Set(keys.map(slotOf)).size > 1) throw new Error('All keys in the pipeline should belong to the same slots allocation group');
          return batch.exec();
        },
      };
      return recorder;
    },
    get(key: string) {
      gets.push(key);
      return redis.get(key);
    },
  };
  return { client: client as unknown as Redis, pipelines, gets };
}

describe('JobLister (GET /jobs) on a cluster-like connection', () => {
  let redis: Redis;
  const owner = `spec-${randomBytes(6).toString('hex')}`;
  const tag = `{spec-${randomBytes(6).toString('hex')}}`;
  const ids = { completed: randomUUID(), active: randomUUID(), cancelled: randomUUID(), gone: randomUUID(), othersMark: randomUUID() };
  const states = new Map<string, string>([[ids.active, 'active']]);
  const queue: ListedQueue = { toKey: (id) => `${tag}:transcribe:${id}`, getJobState: async (id) => states.get(id) ?? 'unknown' };

  beforeAll(async () => {
    redis = new Redis(url);
    const index = new JobIndex(redis, 3_600);
    const now = Date.now();
    // oldest first: the listing shows them newest first
    for (const [i, id] of [ids.othersMark, ids.gone, ids.cancelled, ids.active, ids.completed].entries()) await index.record(owner, id, now - 5_000 + i);
    const data = (fileName: string) => JSON.stringify({ owner, fileName, sizeBytes: 1, acceptedAt: now, options: {} });
    await redis.hset(queue.toKey(ids.completed), { name: JobName.Transcribe, data: data('done.wav'), processedOn: now, finishedOn: now + 1, returnvalue: JSON.stringify({ duration: 11, language: 'en' }) });
    await redis.hset(queue.toKey(ids.active), { name: JobName.Transcribe, data: data('running.wav'), processedOn: now, progress: JSON.stringify({ stage: 'transcribe', percent: 40 }) });
    // removed from the queue by DELETE: only the marks are left (one naming another owner)
    await redis.set(RedisKeys.cancelled(ids.cancelled), owner, 'EX', 60);
    await redis.set(RedisKeys.cancelled(ids.othersMark), 'someone-else', 'EX', 60);
  });

  afterAll(async () => {
    await redis.zrem(JobListKeys.all, ...Object.values(ids));
    await Promise.all([JobIndex.keyFor(owner), ...Object.values(ids).map((id) => queue.toKey(id))].map((key) => redis.del(key)));
    await Promise.all(Object.values(ids).map((id) => redis.del(RedisKeys.cancelled(id))));
    await redis.quit();
  });

  it("reads the job hashes in one single-slot pipeline and only the missing jobs' cancel marks, one by one", async () => {
    const { client, pipelines, gets } = clusterLike(redis);
    const body = await new JobLister(client, queue, new JobIndex(redis, 3_600)).list(owner, { limit: 10 });

    expect(body.jobs.map((job) => [job.job_id, job.status])).toEqual([
      [ids.completed, 'completed'],
      [ids.active, 'active'],
      [ids.cancelled, 'cancelled'],
    ]);
    expect(body.jobs[0]).toMatchObject({ stage: 'done', progress: 100, duration: 11, language: 'en', file_name: 'done.wav' });
    expect(body.jobs[1]).toMatchObject({ stage: 'transcribe', progress: 40, file_name: 'running.wav' });
    expect(body.jobs[2]).toMatchObject({ stage: 'queued', error: { code: 'job_cancelled' } });
    expect(body.next_cursor).toBeUndefined();

    // one pipeline, every key in the queue's slot (a cross-slot one would have been refused above)
    expect(pipelines).toHaveLength(1);
    expect(pipelines[0].map(slotOf)).toEqual(Array(5).fill(tag));
    expect(gets.sort()).toEqual([ids.cancelled, ids.gone, ids.othersMark].map((id) => RedisKeys.cancelled(id)).sort());
    // an id with neither hash nor mark left the index; one with another owner's mark stays (hidden)
    expect((await redis.zrange(JobIndex.keyFor(owner), 0, -1)).sort()).toEqual([ids.completed, ids.active, ids.cancelled, ids.othersMark].sort());
  });
});
