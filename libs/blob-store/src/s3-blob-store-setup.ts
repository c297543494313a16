import { Logger } from '@nestjs/common';
import type { BlobStoreKind, S3Settings } from '@app/config';
import { S3BlobStore } from './s3-blob-store';
import { assertBucketReady, BucketCheck, s3ClientFor } from './s3-client';

/** The BLOB_STORE settings a process boots with (ServiceConfig has them). */
export interface BlobStoreKindSettings {
  blobStore?: BlobStoreKind;
  s3?: S3Settings;
  /** uploads older than this are swept from the bucket (AUDIO_TTL_S) */
  audioTtlS?: number;
}

// how often a process looks for stale uploads: a quarter of the TTL, within 1..15 minutes
const MIN_SWEEP_MS = 60_000;
const MAX_SWEEP_MS = 15 * 60_000;

/**
 * The S3 store of a process, sweeping uploads older than AUDIO_TTL_S under the prefix as a backstop
 * to the job's own delete (every process sweeps; deleting an already-deleted key costs nothing).
 */
export function createS3BlobStore(s3: S3Settings, audioTtlS?: number): S3BlobStore {
  const store = new S3BlobStore(s3ClientFor(s3), s3);
  if (audioTtlS) {
    const logger = new Logger('S3BlobStore');
    const everyMs = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, (audioTtlS * 1000) / 4));
    store.startSweeping(
      audioTtlS,
      everyMs,
      (error) => logger.warn(`stale upload sweep of s3://${s3.bucket}/${s3.prefix} failed: ${error.message}`),
      (result) => result.deleted.length > 0 && logger.log(`deleted ${result.deleted.length} upload(s) older than ${audioTtlS} s from s3://${s3.bucket}/${s3.prefix}`),
    );
  }
  return store;
}

/**
 * Boot check of the upload store: with BLOB_STORE=s3 a missing bucket or refused credentials throw a
 * ConfigError (the process stops); an endpoint that does not answer is 'unreachable' (the caller
 * warns and starts, as with Redis down). 'none' for the Redis store, checked with Redis.
 */
export async function checkBlobStore(settings: BlobStoreKindSettings): Promise<BucketCheck | 'none'> {
  if (settings.blobStore !== 's3' || !settings.s3) return 'none';
  const client = s3ClientFor(settings.s3);
  try {
    return await assertBucketReady(client, settings.s3);
  } finally {
    client.destroy();
  }
}
