import Redis from 'ioredis';
import { JobListKeys } from '@app/contracts';

/** A place in a listing: the last job a page covered (ids and times, newest first). */
export interface IndexEntry {
  id: string;
  /** epoch ms when the API accepted the job (the sorted set's score) */
  at: number;
}

/**
 * Who submitted which transcription: per owner a Redis sorted set of job ids scored by acceptance
 * time, and one of every job for the admin token, so GET /jobs reads one key's ids newest first
 * instead of scanning the queue. Entries older than the retention are trimmed on each submit and
 * the keys expire with them; ids whose job is gone are dropped when a listing meets them.
 */
export class JobIndex {
  constructor(
    private readonly redis: Redis,
    /** how long an entry stays: as long as its job can still be read */
    private readonly retentionS: number,
  ) {}

  /** One owner's index, or every job's (undefined: the admin token's listing). */
  static keyFor(owner: string | undefined): string {
    return owner === undefined ? JobListKeys.all : JobListKeys.byOwner(owner);
  }

  /** One MULTI per key, sent together: a Redis Cluster refuses a MULTI whose keys live in different slots. */
  async record(owner: string, jobId: string, acceptedAt: number): Promise<void> {
    const expired = `(${acceptedAt - this.retentionS * 1000}`;
    await Promise.all(
      [JobIndex.keyFor(owner), JobListKeys.all].map(async (key) => {
        const replies = await this.redis.multi().zadd(key, acceptedAt, jobId).zremrangebyscore(key, '-inf', expired).expire(key, this.retentionS).exec();
        const failure = replies?.find(([error]) => error)?.[0];
        if (!replies || failure) throw failure ?? new Error('no reply from Redis');
      }),
    );
  }

  /**
   * Up to `count` entries older than `after` (from the newest without it), newest first. Jobs of
   * the same millisecond are ordered by id (as Redis orders equal scores), so a page that ends inside
   * such a run continues exactly after its last id.
   */
  async older(key: string, after: IndexEntry | undefined, count: number): Promise<IndexEntry[]> {
    if (!after) return pairs(await this.redis.zrange(key, '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, count, 'WITHSCORES'));
    // the rest of the cursor's own millisecond (usually none), then strictly older ones
    const sameMs = pairs(await this.redis.zrange(key, after.at, after.at, 'BYSCORE', 'REV', 'WITHSCORES')).filter((entry) => entry.id < after.id);
    if (sameMs.length >= count) return sameMs.slice(0, count);
    const older = pairs(await this.redis.zrange(key, `(${after.at}`, '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, count - sameMs.length, 'WITHSCORES'));
    return [...sameMs, ...older];
  }

  async forget(key: string, jobIds: readonly string[]): Promise<void> {
    if (jobIds.length > 0) await this.redis.zrem(key, ...jobIds);
  }
}

/** WITHSCORES' flat [member, score, …] → entries. */
function pairs(flat: string[]): IndexEntry[] {
  const entries: IndexEntry[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ id: flat[i], at: Number(flat[i + 1]) });
  return entries;
}

/** The cursor a client passes back: opaque to it, "<ms>.<job id>" in base64url to us. */
export function encodeCursor(entry: IndexEntry): string {
  return Buffer.from(`${entry.at}.${entry.id}`, 'utf8').toString('base64url');
}

/** The entry a cursor names, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): IndexEntry | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  const match = /^(\d{1,16})\.([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? { at: Number(match[1]), id: match[2] } : undefined;
}
