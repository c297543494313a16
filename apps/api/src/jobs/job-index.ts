import Redis from 'ioredis';
import { JobListKeys } from '@app/contracts';

/** Trimming an index key's expired entries more often than this gains nothing: they are a minute's worth. */
const TRIM_EVERY_MS = 60_000;
/** Past this many remembered keys, the ones not trimmed for a period are forgotten. */
const MAX_TRIM_ENTRIES = 10_000;

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
  /** when this process last trimmed each index key (epoch ms) */
  private readonly lastTrim = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    /** how long an entry stays: as long as its job can still be read */
    private readonly retentionS: number,
  ) {}

  /** One owner's index, or every job's (undefined: the admin token's listing). */
  static keyFor(owner: string | undefined): string {
    return owner === undefined ? JobListKeys.all : JobListKeys.byOwner(owner);
  }

  /**
   * Adds the job to its owner's index and to every job's. Plain commands, sent in one write by the
   * connection's auto-pipelining (a MULTI per key cost more CPU than the rest of the enqueue's Redis
   * work); nothing here needs atomicity: an entry without its job is dropped by the listing. Old
   * entries are trimmed at most once a minute per key and process — the key's TTL, renewed on every
   * write, is what bounds it.
   */
  async record(owner: string, jobId: string, acceptedAt: number): Promise<void> {
    await Promise.all(
      [JobIndex.keyFor(owner), JobListKeys.all].flatMap((key) => {
        const writes: Promise<unknown>[] = [this.redis.zadd(key, acceptedAt, jobId), this.redis.expire(key, this.retentionS)];
        if (this.trimDue(key, acceptedAt)) writes.push(this.redis.zremrangebyscore(key, '-inf', `(${acceptedAt - this.retentionS * 1000}`));
        return writes;
      }),
    );
  }

  /** Whether `key`'s old entries are to be trimmed now (the first write, then once per TRIM_EVERY_MS). */
  private trimDue(key: string, now: number): boolean {
    const last = this.lastTrim.get(key);
    if (last !== undefined && now - last < TRIM_EVERY_MS) return false;
    // one entry per owner seen recently: the map forgets owners a trim period after their last job
    if (this.lastTrim.size > MAX_TRIM_ENTRIES) this.forgetTrimsBefore(now - TRIM_EVERY_MS);
    this.lastTrim.set(key, now);
    return true;
  }

  private forgetTrimsBefore(cutoff: number): void {
    for (const [key, at] of this.lastTrim) if (at < cutoff) this.lastTrim.delete(key);
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
