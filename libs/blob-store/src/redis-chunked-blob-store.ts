import Redis from 'ioredis';
import { BlobMissingError, BlobStore, BlobWriteOptions, BlobWritten } from './blob-store';

/** Well under Redis's comfortable value size and the 4 MB ceiling; big enough that a 1 GB upload is ~1000 SETs. */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/**
 * Chunk SETs in flight at once over all of a process's uploads. ioredis copies each value into a
 * buffer of its own until it is sent: uncapped, 50 concurrent uploads held 50 such copies on top of
 * their own chunks. With a fresh buffer per chunk and no cap, 50 × 20 MB uploads took the API's RSS
 * to 447 MB; with this cap and one reused buffer per upload, to 266 MB (each alone: 370 / 337 MB).
 * The connection writes one command at a time anyway, so a few keep it busy.
 */
export const DEFAULT_CHUNK_WRITES_IN_FLIGHT = 4;
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
 * buffers; at most `maxChunkWrites` chunks of all writers are being sent at once). The manifest is
 * written after the last chunk, so a reader never sees a half-written blob.
 */
export class RedisChunkedBlobStore implements BlobStore {
  private chunkWritesInFlight = 0;
  private readonly chunkWriteQueue: (() => void)[] = [];
  /** chunk-sized buffers for small uploads, at most one per write slot */
  private readonly chunkBufferPool: Buffer[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly chunkBytes = DEFAULT_CHUNK_BYTES,
    private readonly maxChunkWrites = DEFAULT_CHUNK_WRITES_IN_FLIGHT,
  ) {}

  async write(jobId: string, source: AsyncIterable<Buffer>, options: BlobWriteOptions): Promise<BlobWritten> {
    let written = 0;
    let size = 0;
    // an upload under one chunk keeps its pieces as they came (copied into a pooled buffer at the end);
    // a bigger one gets one chunk buffer, filled and sent again and again: no per-chunk garbage. A
    // 1 MiB buffer for each of 200 small uploads would be 200 MB of external memory and full GCs
    let small: Buffer[] | undefined = [];
    let smallBytes = 0;
    let chunk: Buffer | undefined;
    let filled = 0;
    const flush = async (bytes: Buffer) => {
      // reusing `chunk` after this is safe: ioredis has copied the value once the reply is in
      await this.inChunkWriteSlot(() => this.redis.set(chunkedBlobKeys.chunk(jobId, written), bytes, 'EX', options.ttlSeconds));
      written++;
    };
    try {
      for await (const piece of source) {
        size += piece.length;
        if (small && smallBytes + piece.length < this.chunkBytes) {
          small.push(piece);
          smallBytes += piece.length;
          continue;
        }
        if (!chunk) {
          // past one chunk: from here on through the one reused buffer, the pieces so far first
          chunk = Buffer.allocUnsafe(this.chunkBytes);
          for (const earlier of small ?? []) filled += earlier.copy(chunk, filled);
          small = undefined;
        }
        // whole chunks out as soon as there are enough bytes; the remainder waits for more
        for (let at = 0; at < piece.length; ) {
          const copied = piece.copy(chunk, filled, at);
          filled += copied;
          at += copied;
          if (filled === this.chunkBytes) {
            await flush(chunk);
            filled = 0;
          }
        }
      }
      const lastBytes = small ? smallBytes : filled;
      const manifest: Manifest = { size, chunks: written + (lastBytes > 0 ? 1 : 0) };
      const writeManifest = () => this.redis.set(chunkedBlobKeys.manifest(jobId), JSON.stringify(manifest), 'EX', options.ttlSeconds);
      const writeLast = small ? () => this.flushPieces(jobId, written, small as Buffer[], smallBytes, options.ttlSeconds) : () => flush((chunk as Buffer).subarray(0, filled));
      // the last piece and the manifest go out together (a small upload: one round trip, not two);
      // the blob counts as written once both are in, and nobody reads it before (its job is not queued yet)
      if (lastBytes > 0) await Promise.all([writeLast(), writeManifest()]);
      else await writeManifest();
      return { sizeBytes: size };
    } catch (error) {
      // a refused or broken upload leaves nothing behind (its TTL is only the backstop)
      await this.deleteChunks(jobId, written).catch(() => undefined);
      throw error;
    }
  }

  /**
   * A small upload's pieces as its one chunk. They are copied into a buffer of the pool (one per
   * write slot, reused): a fresh buffer per upload costs a page fault per 4 KiB on first touch, which
   * made this copy a third of the API's CPU in a burst of 200 uploads of 344 KB.
   */
  private flushPieces(jobId: string, index: number, pieces: Buffer[], bytes: number, ttlSeconds: number): Promise<void> {
    const set = (value: Buffer) => this.redis.set(chunkedBlobKeys.chunk(jobId, index), value, 'EX', ttlSeconds);
    // taken inside the slot, so the pool never holds more buffers than there are slots
    return this.inChunkWriteSlot(async () => {
      if (pieces.length === 1) return void (await set(pieces[0]));
      const pooled = this.chunkBufferPool.pop() ?? Buffer.allocUnsafe(this.chunkBytes);
      try {
        let at = 0;
        for (const piece of pieces) at += piece.copy(pooled, at);
        // the pooled buffer is free again once the reply is in: ioredis has copied the value by then
        await set(pooled.subarray(0, bytes));
      } finally {
        this.chunkBufferPool.push(pooled);
      }
    });
  }

  /** Runs a chunk write in one of the `maxChunkWrites` slots. */
  private async inChunkWriteSlot<T>(write: () => Promise<T>): Promise<T> {
    await this.chunkWriteSlot();
    try {
      return await write();
    } finally {
      this.releaseChunkWriteSlot();
    }
  }

  /** Waits for one of the `maxChunkWrites` slots (first come, first served). */
  private async chunkWriteSlot(): Promise<void> {
    if (this.chunkWritesInFlight < this.maxChunkWrites) {
      this.chunkWritesInFlight++;
      return;
    }
    // the slot is handed over by the release: the count stays as it is
    await new Promise<void>((resolve) => this.chunkWriteQueue.push(resolve));
  }

  private releaseChunkWriteSlot(): void {
    const next = this.chunkWriteQueue.shift();
    if (next) next();
    else this.chunkWritesInFlight--;
  }

  /**
   * The chunks in order, each fetched while the one before is being consumed (at most two chunks in
   * memory): the decoder never waits a round trip per MiB. The first chunk is asked for together with
   * the manifest — a small upload is read in one round trip.
   */
  async *read(jobId: string): AsyncIterable<Buffer> {
    const fetchChunk = (index: number) => this.redis.getBuffer(chunkedBlobKeys.chunk(jobId, index));
    const first = fetchChunk(0);
    // an empty blob has no chunk 0: that answer is never looked at, and must not be an unhandled rejection
    first.catch(() => undefined);
    const manifest = await this.manifest(jobId);
    if (!manifest) throw new BlobMissingError(jobId);
    let next: Promise<Buffer | null> | undefined = manifest.chunks > 0 ? first : undefined;
    for (let index = 0; next; index++) {
      const chunk = await next;
      next = index + 1 < manifest.chunks ? fetchChunk(index + 1) : undefined;
      next?.catch(() => undefined);
      // expired or flushed under us (an in-memory audio Redis that restarted)
      if (!chunk) throw new BlobMissingError(jobId, `chunk ${index} of ${manifest.chunks} is gone`);
      yield chunk;
    }
  }

  async size(jobId: string): Promise<number | null> {
    return (await this.manifest(jobId))?.size ?? null;
  }

  /**
   * The manifest is taken (GETDEL) together with chunk 0's DEL — one round trip for a small upload;
   * the chunks after it follow once the manifest has said how many there are. The manifest goes
   * first (or together): a reader never sees a manifest whose chunks are gone half-way.
   */
  async delete(jobId: string): Promise<void> {
    const [raw] = await Promise.all([this.redis.getdel(chunkedBlobKeys.manifest(jobId)), this.redis.del(chunkedBlobKeys.chunk(jobId, 0))]);
    const chunks = parseManifest(raw)?.chunks;
    if (chunks === undefined || chunks > 1) await this.deleteChunks(jobId, chunks, 1);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }

  /**
   * Chunks 0..count-1; without a count (no manifest: the upload is still being written or broke) in
   * batches until one finds a gap — chunk numbers are contiguous from 0.
   */
  private async deleteChunks(jobId: string, count?: number, from = 0): Promise<void> {
    if (count !== undefined) {
      for (let start = from; start < count; start += DELETE_BATCH) {
        await this.deleteKeys(range(start, Math.min(count, start + DELETE_BATCH)).map((i) => chunkedBlobKeys.chunk(jobId, i)));
      }
      return;
    }
    for (let start = from; ; start += DELETE_BATCH) {
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
    return parseManifest(await this.redis.get(chunkedBlobKeys.manifest(jobId)));
  }
}

function parseManifest(raw: string | null): Manifest | null {
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as Partial<Manifest>;
    if (Number.isInteger(parsed.size) && Number.isInteger(parsed.chunks)) return parsed as Manifest;
  } catch {
    // an old single-value upload or a foreign key: treated as missing
  }
  return null;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
