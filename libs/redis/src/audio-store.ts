import Redis from 'ioredis';
import { RedisKeys } from '@app/contracts';

/** Upload bytes kept in Redis between the API and the worker: binary-safe, job-scoped, with a TTL. */
export class AudioStore {
  constructor(private readonly redis: Redis) {}

  async put(jobId: string, bytes: Buffer, ttlSeconds: number): Promise<void> {
    await this.redis.set(RedisKeys.audio(jobId), bytes, 'EX', ttlSeconds);
  }

  /** null when the key expired or was deleted (cancelled job). */
  get(jobId: string): Promise<Buffer | null> {
    return this.redis.getBuffer(RedisKeys.audio(jobId));
  }

  async delete(jobId: string): Promise<void> {
    await this.redis.del(RedisKeys.audio(jobId));
  }
}
