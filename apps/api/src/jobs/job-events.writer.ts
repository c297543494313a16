import Redis from 'ioredis';
import { encodeJobEvent, JOB_EVENTS_MAX_LEN, JobEvent, jobEventsKey } from '@app/contracts';

/**
 * Appends an event to a job's stream from the API: the `cancelled` end of a job DELETE removed
 * before any worker took it (its worker, which writes every other event, never sees that job).
 */
export async function appendJobEvent(redis: Redis, jobId: string, event: JobEvent, ttlS: number): Promise<string> {
  const key = jobEventsKey(jobId);
  const replies = await redis.multi().xadd(key, 'MAXLEN', '~', String(JOB_EVENTS_MAX_LEN), '*', ...encodeJobEvent(event)).expire(key, ttlS).exec();
  const failure = replies?.find(([error]) => error)?.[0];
  if (!replies || failure) throw failure ?? new Error('no reply from Redis');
  return String(replies[0][1]);
}
