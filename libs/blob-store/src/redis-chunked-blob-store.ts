import Redis from 'ioredis';
import { BlobMissingError, BlobStore, BlobWriteOptions, BlobWritten } from './blob-store';

/** Well under Redis's comfortable value size and the 4 MB ceiling; big enough that a 1 GB upload is ~1000 SETs. */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/** Chunk keys removed per DEL when the manifest is not there to say how many exist. */
const DELETE_BATCH = 64;

/** Keys of one blob: `tx:audio:<job>` (manifest: size and chunk count, written last) and `tx:audio:<job>:<n>`. */
export const chunkedBlobKeys = {
  manifest: (jobId: string) => `tx:audio:${jobId}`,
  chunk: (jobId: string, index: number) => `tx:audio:${jobId}:${index}`,
};

interface Manifest {
  size: number;
  chunks: number;
}

/**
 * A blob as fixed-size Redis strings, each with the blob's TTL, written as the bytes arrive: no value
 * is ever bigger than `chunkBytes`, and neither side holds more than one chunk (plus what its source
 * buffers). The manifest is written after the last chunk, so a reader never sees a half-written blob.
 */
export class RedisChunkedBlobStore implements BlobStore {
  constructor(
    private readonly redis: Redis,
    private readonly chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {}

  async write(jobId: string, source: AsyncIterable<Buffer>, options: BlobWriteOptions): Promise<BlobWritten> {
    let written = 0;
    let size = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (bytes: Buffer) => {
      await this.redis.set(chunkedBlobKeys.chunk(jobId, written), bytes, 'EX', options.ttlSeconds);
      written++;
    };
    try {
      for await (const piece of source) {
        size += piece.length;
        pending.push(piece);
        pendingBytes += piece.length;
        // whole chunks out as soon as there are enough bytes; the remainder waits for more
        while (pendingBytes >= this.chunkBytes) {
          const all = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
          await flush(all.subarray(0, this.chunkBytes));
          const rest = all.subarray(this.chunkBytes);
          pending = rest.length > 0 ? [Buffer.from(rest)] : [];
          pendingBytes = rest.length;
        }
      }
      if (pendingBytes > 0) await flush(Buffer.concat(pending, pendingBytes));
      const manifest: Manifest = { size, chunks: written };
      await this.redis.set(chunkedBlobKeys.manifest(jobId), JSON.stringify(manifest), 'EX', options.ttlSeconds);
      return { sizeBytes: size };
    } catch (error) {
      // a refused or broken upload leaves nothing behind (its TTL is only the backstop)
      await this.deleteChunks(jobId, written).catch(() => undefined);
      throw error;
    }
  }

  async *read(jobId: string): AsyncIterable<Buffer> {
    const manifest = await this.manifest(jobId);
    if (!manifest) throw new BlobMissingError(jobId);
    for (let index = 0; index < manifest.chunks; index++) {
      const chunk = await this.redis.getBuffer(chunkedBlobKeys.chunk(jobId, index));
      // expired or flushed under us (an in-memory audio Redis that restarted)
      if (!chunk) throw new BlobMissingError(jobId, `chunk ${index} of ${manifest.chunks} is gone`);
      yield chunk;
    }
  }

  async size(jobId: string): Promise<number | null> {
    return (await this.manifest(jobId))?.size ?? null;
  }

  async delete(jobId: string): Promise<void> {
    const manifest = await this.manifest(jobId);
    await this.redis.del(chunkedBlobKeys.manifest(jobId));
    await this.deleteChunks(jobId, manifest?.chunks);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }

  /**
   * Chunks 0..count-1; without a count (no manifest: the upload is still being written or broke) in
   * batches until one finds a gap — chunk numbers are contiguous from 0.
   */
  private async deleteChunks(jobId: string, count?: number): Promise<void> {
    if (count !== undefined) {
      for (let start = 0; start < count; start += DELETE_BATCH) {
        await this.deleteKeys(range(start, Math.min(count, start + DELETE_BATCH)).map((i) => chunkedBlobKeys.chunk(jobId, i)));
      }
      return;
    }
    for (let start = 0; ; start += DELETE_BATCH) {
      const keys = range(start, start + DELETE_BATCH).map((i) => chunkedBlobKeys.chunk(jobId, i));
      const deleted = await this.deleteKeys(keys);
      if (deleted < keys.length) return;
    }
  }

  /**
   * One single-key DEL per chunk, sent together (one round trip's worth of waiting): a multi-key DEL
   * is refused by a Redis Cluster (CROSSSLOT) unless the keys share a slot, and spreading a big
   * upload's chunks over the cluster's nodes is what a cluster is for.
   */
  private async deleteKeys(keys: readonly string[]): Promise<number> {
    const deleted = await Promise.all(keys.map((key) => this.redis.del(key)));
    return deleted.reduce((sum, n) => sum + n, 0);
  }

  private async manifest(jobId: string): Promise<Manifest | null> {
    const raw = await this.redis.get(chunkedBlobKeys.manifest(jobId));
    if (!raw) return null;
    try {
      const parsed = JSON.parse(raw) as Partial<Manifest>;
      if (Number.isInteger(parsed.size) && Number.isInteger(parsed.chunks)) return parsed as Manifest;
    } catch {
      // an old single-value upload or a foreign key: treated as missing
    }
    return null;
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
