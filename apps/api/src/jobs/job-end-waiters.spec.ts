import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { JobEndWaiters, RECHECK_EVERY_MS } from './job-end-waiters';

// real Redis (pub/sub and hashes): TEST_REDIS_URL's database
const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/10';

describe('JobEndWaiters', () => {
  const prefix = `unit-job-ends-${randomBytes(4).toString('hex')}`;
  const channels = { jobEnded: `${prefix}:job-ended`, cancel: `${prefix}:cancel` };
  const jobKey = (jobId: string) => `${prefix}:job:${jobId}`;
  const cancelMarkKey = (jobId: string) => `${prefix}:cancelled:${jobId}`;
  let subscriber: Redis;
  let redis: Redis;
  let waiters: JobEndWaiters;
  const warnings: string[] = [];
  const job = () => randomBytes(6).toString('hex');

  beforeAll(async () => {
    subscriber = new Redis(url);
    redis = new Redis(url, { enableAutoPipelining: true });
    waiters = new JobEndWaiters(subscriber, redis, { jobKey, cancelMarkKey, channels: () => channels }, (line) => warnings.push(line));
    waiters.listen();
    // subscribed before the first test publishes
    for (let tries = 0; tries < 100; tries++) {
      const [, subscribers] = (await redis.pubsub('NUMSUB', channels.jobEnded)) as [string, number];
      if (Number(subscribers) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  afterAll(async () => {
    waiters.close();
    subscriber.disconnect();
    await redis.quit();
  });

  /** What BullMQ's job hash holds while queued, and once ended. */
  const queued = (jobId: string) => redis.hset(jobKey(jobId), 'timestamp', Date.now(), 'data', '{}');
  const completed = (jobId: string, result: object) => redis.hset(jobKey(jobId), 'finishedOn', Date.now(), 'returnvalue', JSON.stringify(result));
  const failed = (jobId: string, reason: string) => redis.hset(jobKey(jobId), 'finishedOn', Date.now(), 'failedReason', reason);

  it('a waiting job ends when its worker announces it: the result from its hash, at once', async () => {
    const jobId = job();
    await queued(jobId);
    const started = Date.now();
    const waiting = waiters.wait(jobId, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await completed(jobId, { text: 'hello' });
    // a big result is not in the message: the hash is read
    await redis.publish(channels.jobEnded, JSON.stringify({ id: jobId }));
    await expect(waiting).resolves.toEqual({ kind: 'completed', result: { text: 'hello' } });
    // the message, not the backstop re-read
    expect(Date.now() - started).toBeLessThan(RECHECK_EVERY_MS);
    expect(waiters.waiting).toBe(0);
  });

  it('a small result or failure in the message settles the waiters without reading the job', async () => {
    const [done, broken] = [job(), job()];
    await Promise.all([queued(done), queued(broken)]);
    const waiting = [waiters.wait(done, 10_000), waiters.wait(done, 10_000), waiters.wait(broken, 10_000)];
    await new Promise((resolve) => setTimeout(resolve, 50));
    // the hashes say "not ended": only the messages can end these waits before the re-read
    const started = Date.now();
    await redis.publish(channels.jobEnded, JSON.stringify({ id: done, result: { text: 'inline' } }));
    await redis.publish(channels.jobEnded, JSON.stringify({ id: broken, failedReason: '{"code":"audio_too_long"}' }));
    await expect(Promise.all(waiting)).resolves.toEqual([
      { kind: 'completed', result: { text: 'inline' } },
      { kind: 'completed', result: { text: 'inline' } },
      { kind: 'failed', failedReason: '{"code":"audio_too_long"}' },
    ]);
    expect(Date.now() - started).toBeLessThan(RECHECK_EVERY_MS);
    // a message that is not ours is ignored
    await redis.publish(channels.jobEnded, 'not json');
  });

  it('a job that ended before its waiter came is read at once; a failure carries its reason', async () => {
    const done = job();
    await queued(done);
    await completed(done, { text: 'early' });
    await expect(waiters.wait(done, 10_000)).resolves.toEqual({ kind: 'completed', result: { text: 'early' } });
    const broken = job();
    await queued(broken);
    await failed(broken, '{"code":"corrupt_audio"}');
    await expect(waiters.wait(broken, 10_000)).resolves.toEqual({ kind: 'failed', failedReason: '{"code":"corrupt_audio"}' });
  });

  it('an end whose message was lost is found by the re-read', async () => {
    const jobId = job();
    await queued(jobId);
    const waiting = waiters.wait(jobId, 10_000);
    await completed(jobId, { text: 'unannounced' });
    const started = Date.now();
    await expect(waiting).resolves.toEqual({ kind: 'completed', result: { text: 'unannounced' } });
    expect(Date.now() - started).toBeLessThan(RECHECK_EVERY_MS + 1_000);
  });

  it('a job removed by a cancel ends as cancelled on the cancel broadcast; one removed otherwise waits on', async () => {
    const cancelled = job();
    await queued(cancelled);
    const waiting = waiters.wait(cancelled, 10_000);
    await redis.set(cancelMarkKey(cancelled), 'anonymous');
    await redis.del(jobKey(cancelled));
    await redis.publish(channels.cancel, cancelled);
    await expect(waiting).resolves.toEqual({ kind: 'cancelled' });

    const vanished = job();
    await queued(vanished);
    const stillWaiting = waiters.wait(vanished, 300);
    await redis.del(jobKey(vanished));
    await redis.publish(channels.jobEnded, JSON.stringify({ id: vanished }));
    await expect(stillWaiting).resolves.toBeUndefined();
  });

  it('gives undefined after its timeout, and close() answers every waiter', async () => {
    const slow = job();
    await queued(slow);
    await expect(waiters.wait(slow, 100)).resolves.toBeUndefined();
    const [a, b] = [waiters.wait(slow, 10_000), waiters.wait(job(), 10_000)];
    expect(waiters.waiting).toBe(2);
    waiters.close();
    await expect(Promise.all([a, b])).resolves.toEqual([undefined, undefined]);
    expect(waiters.waiting).toBe(0);
    expect(warnings).toEqual([]);
  });
});
