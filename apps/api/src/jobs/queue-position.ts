import Redis from 'ioredis';

/** The BullMQ keys a waiting job sits in (Queue.keys). */
export interface WaitingKeys {
  wait: string;
  prioritized: string;
}

/**
 * A waiting job's place in line, 1 = the next job a free worker takes; null when it is in neither
 * list (paused, delayed, already taken). BullMQ's workers take the wait list first (from its tail:
 * LPUSH in, RPOPLPUSH out), then the prioritized set by score (priority, then arrival), so the
 * place is the list's jobs ahead of it, or the whole list plus its rank in the set.
 */
export async function queuePosition(redis: Redis, keys: WaitingKeys, jobId: string): Promise<number | null> {
  const replies = await redis.multi().llen(keys.wait).lpos(keys.wait, jobId).zrank(keys.prioritized, jobId).exec();
  const failure = replies?.find(([error]) => error)?.[0];
  if (!replies || failure) throw failure ?? new Error('no reply from Redis');
  const [waitLength, indexInWait, rankInPrioritized] = replies.map(([, value]) => value) as [number, number | null, number | null];
  if (indexInWait !== null) return waitLength - indexInWait;
  if (rankInPrioritized !== null) return waitLength + rankInPrioritized + 1;
  return null;
}
