import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import type Redis from 'ioredis';

/**
 * Counts a hit, atomically, so every API replica counts into the same window: the window starts
 * with its first hit and lasts ttl ms. Returns the hits so far and the window's ms left.
 */
const INCREMENT = `
local hits = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return { hits, left }
`;

const KEY_PREFIX = 'tx:rate';

type RedisWithIncrement = Redis & { rateLimitIncrement(key: string, ttlMs: number): Promise<[number, number]> };

/**
 * @nestjs/throttler's storage in Redis, shared by all API replicas: a fixed window per tracker.
 * Past the limit a tracker is refused until its window ends (Retry-After: the seconds left), so
 * "N per minute" means what it says; blockDuration is not used.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly redis: RedisWithIncrement;

  constructor(redis: Redis) {
    // sent once per connection, then EVALSHA
    redis.defineCommand('rateLimitIncrement', { numberOfKeys: 1, lua: INCREMENT });
    this.redis = redis as RedisWithIncrement;
  }

  /** ttl in ms (as the guard passes it); the record's times in whole seconds, rounded up. */
  async increment(key: string, ttl: number, limit: number, _blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const [totalHits, leftMs] = await this.redis.rateLimitIncrement(`${KEY_PREFIX}:${throttlerName}:${key}`, ttl);
    const secondsLeft = Math.max(1, Math.ceil(leftMs / 1000));
    const isBlocked = totalHits > limit;
    return { totalHits, timeToExpire: secondsLeft, isBlocked, timeToBlockExpire: isBlocked ? secondsLeft : 0 };
  }
}
