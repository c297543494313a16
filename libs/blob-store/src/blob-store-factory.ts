import Redis from 'ioredis';
import { BlobStore } from './blob-store';
import { RedisChunkedBlobStore } from './redis-chunked-blob-store';
import { BlobStoreKindSettings, createS3BlobStore } from './s3-blob-store-setup';

export interface BlobStoreSettings extends BlobStoreKindSettings {
  /** AUDIO_REDIS_URL (default REDIS_URL) */
  audioRedisUrl: string;
}

/**
 * The upload store a process uses. `connect` builds the Redis connection (the API's fails fast, the
 * worker's waits for Redis to come back). Other kinds (BLOB_STORE=s3) plug in here.
 */
export function createBlobStore(settings: BlobStoreSettings, connect: (url: string) => Redis): BlobStore {
  if (settings.blobStore === 's3' && settings.s3) return createS3BlobStore(settings.s3, settings.audioTtlS);
  return new RedisChunkedBlobStore(connect(settings.audioRedisUrl));
}
