/**
 * Where an upload's bytes wait between the API and the worker. Implementations: Redis in chunks
 * (redis-chunked-blob-store.ts, the default: audio stays in memory) and S3-compatible object storage.
 * Every method is keyed by the job id; an implementation picks its own key layout.
 */
export interface BlobStore {
  /**
   * Stores the bytes of `source` as they arrive (never the whole blob in memory). Resolves with the
   * byte count once all is written. If `source` throws (size limit, client gone, bad field) or a
   * write fails, whatever was written is removed and the error is rethrown as it was.
   */
  write(jobId: string, source: AsyncIterable<Buffer>, options: BlobWriteOptions): Promise<BlobWritten>;

  /**
   * The stored bytes in order, a chunk at a time. Throws BlobMissingError when the blob is not there
   * (expired, deleted, the store restarted or was flushed) — on open or while reading.
   */
  read(jobId: string): AsyncIterable<Buffer>;

  /** The stored size, null when the blob is not there. */
  size(jobId: string): Promise<number | null>;

  /** Removes the blob; a missing blob is not an error. */
  delete(jobId: string): Promise<void>;

  /** Closes the store's connections. */
  close(): Promise<void>;
}

export interface BlobWriteOptions {
  /** The blob is removed by the store after this many seconds even if nobody deletes it. */
  ttlSeconds: number;
}

export interface BlobWritten {
  sizeBytes: number;
}

/** The blob is gone (expired, deleted, or its store lost it): the job fails with audio_expired (410). */
export class BlobMissingError extends Error {
  constructor(readonly jobId: string, detail = 'not found') {
    super(`audio of job ${jobId}: ${detail}`);
    this.name = 'BlobMissingError';
  }
}
