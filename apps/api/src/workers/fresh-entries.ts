import type Redis from 'ioredis';

/** What every entry of a per-worker hash carries: who wrote it and when (epoch ms). */
export interface TimestampedEntry {
  worker_id: string;
  ts: number;
}

/**
 * Removes the fields whose value is still the one read (a worker that wrote its field anew between
 * the read and this removal keeps it): KEYS[1] the hash, ARGV field, value, field, value, …
 */
const REMOVE_UNCHANGED = `
local removed = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then removed = removed + redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return removed`;

/**
 * The entries of a per-worker hash (heartbeats, metric snapshots) written less than `maxAgeMs` ago,
 * sorted by worker id. One HGETALL: no keyspace scan. Entries a dead worker left behind are removed
 * here, each only if unchanged since the read.
 */
export async function freshEntries<T extends TimestampedEntry>(
  redis: Redis,
  key: string,
  maxAgeMs: number,
  isValid: (value: unknown) => value is T,
): Promise<T[]> {
  const all = await redis.hgetall(key);
  const now = Date.now();
  const fresh: T[] = [];
  const stale: string[] = [];
  for (const [field, raw] of Object.entries(all)) {
    const entry = parse(raw);
    if (isValid(entry) && now - entry.ts < maxAgeMs) fresh.push(entry);
    else stale.push(field, raw);
  }
  // a removal that fails is retried by the next read
  if (stale.length > 0) await redis.eval(REMOVE_UNCHANGED, 1, key, ...stale).catch(() => undefined);
  return fresh.sort((a, b) => a.worker_id.localeCompare(b.worker_id));
}

function parse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
