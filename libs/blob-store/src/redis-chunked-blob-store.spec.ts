import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { BlobMissingError } from './blob-store';
import { chunkedBlobKeys, RedisChunkedBlobStore } from './redis-chunked-blob-store';

// real Redis: TEST_REDIS_URL's database (the store is nothing but Redis commands)
const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/10';

async function* pieces(bytes: Buffer, size: number): AsyncIterable<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

describe('RedisChunkedBlobStore', () => {
  let redis: Redis;
  let store: RedisChunkedBlobStore;
  const job = () => `unit-${randomBytes(6).toString('hex')}`;
  const keysOf = (jobId: string) => redis.keys(`tx:audio:${jobId}*`);

  beforeAll(() => {
    redis = new Redis(url);
    store = new RedisChunkedBlobStore(redis, 1000);
  });
  afterAll(() => redis.quit());

  it('writes the bytes in chunks of at most chunkBytes, whatever sizes arrive, and reads them back in order', async () => {
    const jobId = job();
    const bytes = randomBytes(4321);
    await expect(store.write(jobId, pieces(bytes, 333), { ttlSeconds: 60 })).resolves.toEqual({ sizeBytes: 4321 });
    const sizes = await Promise.all([0, 1, 2, 3, 4].map((i) => redis.strlen(chunkedBlobKeys.chunk(jobId, i))));
    expect(sizes).toEqual([1000, 1000, 1000, 1000, 321]);
    expect(await redis.exists(chunkedBlobKeys.chunk(jobId, 5))).toBe(0);
    const ttl = await redis.ttl(chunkedBlobKeys.chunk(jobId, 0));
    expect(ttl).toBeGreaterThan(50);
    expect(await store.size(jobId)).toBe(4321);
    expect((await collect(store.read(jobId))).equals(bytes)).toBe(true);
    await store.delete(jobId);
    expect(await keysOf(jobId)).toEqual([]);
  });

  it('a source that throws midway leaves no key behind and its error reaches the caller', async () => {
    const jobId = job();
    async function* failing(): AsyncIterable<Buffer> {
      yield randomBytes(2500);
      throw new Error('too large');
    }
    await expect(store.write(jobId, failing(), { ttlSeconds: 60 })).rejects.toThrow('too large');
    expect(await keysOf(jobId)).toEqual([]);
  });

  it('reading a blob that is gone (never written, or a chunk lost) throws BlobMissingError', async () => {
    await expect(collect(store.read(job()))).rejects.toBeInstanceOf(BlobMissingError);
    const jobId = job();
    await store.write(jobId, pieces(randomBytes(2500), 500), { ttlSeconds: 60 });
    await redis.del(chunkedBlobKeys.chunk(jobId, 1));
    await expect(collect(store.read(jobId))).rejects.toThrow(/chunk 1 of 3 is gone/);
    await store.delete(jobId);
    expect(await keysOf(jobId)).toEqual([]);
  });

  it('delete without a manifest (an upload still being written) removes the chunks written so far', async () => {
    const jobId = job();
    for (let i = 0; i < 70; i++) await redis.set(chunkedBlobKeys.chunk(jobId, i), 'x');
    await store.delete(jobId);
    expect(await keysOf(jobId)).toEqual([]);
  });

  it('small uploads that arrive in pieces share the pooled chunk buffers without mixing their bytes', async () => {
    // more uploads at once than write slots (4): each waits for a slot and its pooled buffer
    const uploads = Array.from({ length: 9 }, (_, i) => ({ jobId: job(), bytes: randomBytes(200 + i * 70) }));
    await Promise.all(uploads.map(({ jobId, bytes }) => store.write(jobId, pieces(bytes, 64), { ttlSeconds: 60 })));
    for (const { jobId, bytes } of uploads) {
      expect(await redis.strlen(chunkedBlobKeys.chunk(jobId, 0))).toBe(bytes.length);
      expect((await collect(store.read(jobId))).equals(bytes)).toBe(true);
      await store.delete(jobId);
      expect(await keysOf(jobId)).toEqual([]);
    }
  });

  it('delete removes a one-chunk blob and its manifest, and a blob of many chunks past the first', async () => {
    const small = job();
    await store.write(small, pieces(randomBytes(600), 600), { ttlSeconds: 60 });
    const big = job();
    await store.write(big, pieces(randomBytes(3500), 700), { ttlSeconds: 60 });
    expect(await keysOf(big)).toHaveLength(5);
    await Promise.all([store.delete(small), store.delete(big)]);
    expect(await keysOf(small)).toEqual([]);
    expect(await keysOf(big)).toEqual([]);
    // a second delete of the same blob is no error
    await expect(store.delete(big)).resolves.toBeUndefined();
  });
});
