import Redis from 'ioredis';
import { decodeJobEvent, jobEventsKey } from '@app/contracts';
import { appendJobEvent } from './job-event-append';

// real Redis: TEST_REDIS_URL's database
const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/10';

describe('appendJobEvent', () => {
  let redis: Redis;
  beforeAll(() => (redis = new Redis(url)));
  afterAll(() => redis.quit());

  it('appends events in order to the job stream and sets its TTL on each append', async () => {
    const jobId = `unit-append-${Date.now()}`;
    const first = await appendJobEvent(redis, jobId, { type: 'active', stage: 'decode', percent: 1 }, 86_400);
    const second = await appendJobEvent(redis, jobId, { type: 'failed', error: { code: 'job_cancelled' as never, message: 'job was cancelled' } }, 60);
    const entries = (await redis.xrange(jobEventsKey(jobId), '-', '+')) as [string, string[]][];
    expect(entries.map(([id]) => id)).toEqual([first, second]);
    expect(entries.map(([, fields]) => decodeJobEvent(fields))).toEqual([
      { type: 'active', stage: 'decode', percent: 1 },
      { type: 'failed', error: { code: 'job_cancelled', message: 'job was cancelled' } },
    ]);
    const ttl = await redis.ttl(jobEventsKey(jobId));
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
    await redis.del(jobEventsKey(jobId));
  });
});
