import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CompletedPart,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Settings } from '@app/config';
import { BlobMissingError, BlobStore, BlobWriteOptions, BlobWritten } from './blob-store';

/** S3's smallest part (every part but the last must be at least this big). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

export interface S3BlobWritten extends BlobWritten {
  /** multipart parts uploaded; 0 when the blob was small enough for one PUT */
  parts: number;
}

export interface SweepResult {
  /** objects under the prefix that were looked at */
  seen: number;
  /** keys deleted because they were older than the age limit */
  deleted: string[];
}

/**
 * Uploads as objects `${prefix}${jobId}` in an S3-compatible bucket. A blob is written while it
 * arrives: one PUT when it stays under a part, else a multipart upload of `partBytes` parts with
 * one part in flight while the next fills (so at most two parts in memory, and the client is slowed
 * down, not buffered, when the bucket is slower than the upload). S3 has no per-object TTL that every
 * provider honours: the bucket's lifecycle rule and sweepStale() are the backstop to delete().
 */
export class S3BlobStore implements BlobStore {
  private sweepTimer?: NodeJS.Timeout;

  constructor(
    readonly client: S3Client,
    private readonly settings: Pick<S3Settings, 'bucket' | 'prefix'>,
    private readonly partBytes = MIN_PART_BYTES,
  ) {
    if (partBytes < MIN_PART_BYTES) throw new Error(`S3 parts must be at least ${MIN_PART_BYTES} bytes`);
  }

  keyOf(jobId: string): string {
    return `${this.settings.prefix}${jobId}`;
  }

  async write(jobId: string, source: AsyncIterable<Buffer>, options: BlobWriteOptions): Promise<S3BlobWritten> {
    const upload = new MultipartWriter(this.client, this.settings.bucket, this.keyOf(jobId), options.ttlSeconds);
    let size = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    try {
      for await (const piece of source) {
        size += piece.length;
        pending.push(piece);
        pendingBytes += piece.length;
        while (pendingBytes >= this.partBytes) {
          const all = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
          // waits while the previous part is still uploading: backpressure on the source
          await upload.addPart(all.subarray(0, this.partBytes));
          const rest = all.subarray(this.partBytes);
          pending = rest.length > 0 ? [Buffer.from(rest)] : [];
          pendingBytes = rest.length;
        }
      }
      const last = Buffer.concat(pending, pendingBytes);
      const parts = await upload.finish(last);
      return { sizeBytes: size, parts };
    } catch (error) {
      // a refused or broken upload leaves nothing behind: no parts, no object
      await upload.discard();
      throw error;
    }
  }

  async *read(jobId: string): AsyncIterable<Buffer> {
    let body: Readable;
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.keyOf(jobId) }));
      body = answer.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) throw new BlobMissingError(jobId, 'no object in the bucket (expired, deleted or never stored)');
      throw error;
    }
    for await (const chunk of body) yield chunk as Buffer;
  }

  async size(jobId: string): Promise<number | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.keyOf(jobId) }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async delete(jobId: string): Promise<void> {
    // S3 answers 204 for a key that is not there too
    await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: this.keyOf(jobId) }));
  }

  /**
   * Deletes every object under the prefix last modified more than `maxAgeS` before `now`: uploads
   * whose job never deleted them (a process killed between upload and enqueue, a job lost with its
   * queue). Pages through the listing, so any number of objects is fine.
   */
  async sweepStale(maxAgeS: number, now = Date.now()): Promise<SweepResult> {
    const cutoff = now - maxAgeS * 1000;
    const result: SweepResult = { seen: 0, deleted: [] };
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: this.settings.prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        result.seen++;
        if (!object.Key || !object.LastModified || object.LastModified.getTime() > cutoff) continue;
        await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: object.Key }));
        result.deleted.push(object.Key);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return result;
  }

  /**
   * Runs sweepStale(maxAgeS) every `everyMs` (the first after a random part of it, so processes that
   * started together do not list the bucket together) until close().
   */
  startSweeping(maxAgeS: number, everyMs: number, onError: (error: Error) => void, onSwept?: (result: SweepResult) => void): void {
    const schedule = (delayMs: number) => {
      this.sweepTimer = setTimeout(() => {
        this.sweepStale(maxAgeS)
          .then((result) => onSwept?.(result), onError)
          .finally(() => {
            if (this.sweepTimer) schedule(everyMs);
          });
      }, delayMs);
      // never what keeps a process alive
      this.sweepTimer.unref();
    };
    schedule(Math.round(everyMs * (0.5 + Math.random() / 2)));
  }

  async close(): Promise<void> {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.client.destroy();
  }
}

/**
 * One object's upload: a single PUT if finish() comes before the first part, else a multipart
 * upload started with the first part. At most one part is uploading at a time.
 */
class MultipartWriter {
  private uploadId?: string;
  private readonly parts: CompletedPart[] = [];
  private inFlight?: Promise<void>;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly ttlSeconds: number,
  ) {}

  /** Starts uploading `bytes` as the next part once the previous one is done. */
  async addPart(bytes: Buffer): Promise<void> {
    await this.inFlight;
    if (!this.uploadId) {
      const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, ...this.expiry() }));
      this.uploadId = created.UploadId;
    }
    const partNumber = this.parts.length + 1;
    const part: CompletedPart = { PartNumber: partNumber };
    this.parts.push(part);
    const uploading = this.client
      .send(new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber: partNumber, Body: bytes, ContentLength: bytes.length }))
      .then((answer) => {
        part.ETag = answer.ETag;
      });
    // a failure surfaces at the next addPart/finish; this keeps it from being reported as unhandled meanwhile
    uploading.catch(() => undefined);
    this.inFlight = uploading;
  }

  /** Uploads the rest and makes the object; resolves with the number of parts (0: one PUT). */
  async finish(last: Buffer): Promise<number> {
    if (!this.uploadId) {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key, Body: last, ContentLength: last.length, ...this.expiry() }));
      return 0;
    }
    if (last.length > 0) await this.addPart(last);
    await this.inFlight;
    await this.client.send(
      new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, MultipartUpload: { Parts: this.parts } }),
    );
    return this.parts.length;
  }

  /** Best effort: the parts of an unfinished upload are billed and kept until aborted. */
  async discard(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
    if (this.uploadId) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId })).catch(() => undefined);
    }
    // the PUT or the completion may have gone through before the failure was seen
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key })).catch(() => undefined);
  }

  /** When the upload may be deleted, for people and tools that look at the bucket (S3 itself does not act on it). */
  private expiry() {
    const at = new Date(Date.now() + this.ttlSeconds * 1000);
    return { Expires: at, Metadata: { 'expires-at': at.toISOString() } };
  }
}

function isNotFound(error: unknown): boolean {
  const failure = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return failure?.name === 'NoSuchKey' || failure?.name === 'NotFound' || failure?.$metadata?.httpStatusCode === 404;
}
