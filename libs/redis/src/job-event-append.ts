import { encodeJobEvent, JOB_EVENTS_MAX_LEN, JobEvent, jobEventsKey } from '@app/contracts';
import type { RedisClient } from './redis-connection';

/** XADD (capped) and the stream's TTL in one step: atomic like the MULTI it replaces, one command to build and send. */
const APPEND = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return id`;

/** Appends an event to a job's stream (GET /jobs/:id/events) and sets how long the stream lives; resolves with the entry id. */
export async function appendJobEvent(redis: RedisClient, jobId: string, event: JobEvent, ttlS: number): Promise<string> {
  return String(await redis.eval(APPEND, 1, jobEventsKey(jobId), String(JOB_EVENTS_MAX_LEN), String(ttlS), ...encodeJobEvent(event)));
}
