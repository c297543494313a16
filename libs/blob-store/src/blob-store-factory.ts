import Redis from 'ioredis';
import { BlobStore } from './blob-store';
import { RedisChunkedBlobStore } from './redis-chunked-blob-store';

export interface BlobStoreSettings {
  /** AUDIO_REDIS_URL (default REDIS_URL) */
  audioRedisUrl: string;
}

/**
 * The upload store a process uses. `connect` builds the Redis connection (the API's fails fast, the
 * worker's waits for Redis to come back). Other kinds (BLOB_STORE=s3) plug in here.
 */
export function createBlobStore(settings: BlobStoreSettings, connect: (url: string) => Redis): BlobStore {
  return new RedisChunkedBlobStore(connect(settings.audioRedisUrl));
}
