import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { chunkedBlobKeys, RedisChunkedBlobStore } from './redis-chunked-blob-store';

// real Redis: TEST_REDIS_URL's database
const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/10';

/** `bytes` in pieces of the given sizes, in turn (odd sizes: chunk borders fall inside pieces). */
async function* pieces(bytes: Buffer, sizes: number[]): AsyncIterable<Buffer> {
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    yield bytes.subarray(at, at + size);
    at += size;
    // let the other uploads run between pieces, as sockets would
    await new Promise((r) => setImmediate(r));
  }
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

describe('RedisChunkedBlobStore: concurrent uploads (memory bounds)', () => {
  let redis: Redis;
  afterAll(() => redis.quit());

  it('at most maxChunkWrites chunk SETs are in flight over all uploads, and every upload reads back intact from its reused chunk buffer', async () => {
    redis = new Redis(url);
    const store = new RedisChunkedBlobStore(redis, 1000, 3);
    // counts the chunk SETs the store has sent and not yet seen answered
    const realSet = redis.set.bind(redis) as (...args: unknown[]) => Promise<unknown>;
    let inFlight = 0;
    let mostInFlight = 0;
    (redis as unknown as { set: (...args: unknown[]) => Promise<unknown> }).set = async (...args: unknown[]) => {
      const isChunk = /:\d+$/.test(String(args[0]));
      if (isChunk) mostInFlight = Math.max(mostInFlight, ++inFlight);
      try {
        return await realSet(...args);
      } finally {
        if (isChunk) inFlight--;
      }
    };
    const uploads = Array.from({ length: 12 }, (_, i) => ({ jobId: `unit-writes-${randomBytes(6).toString('hex')}`, bytes: randomBytes(5000 + i * 377) }));
    const written = await Promise.all(uploads.map(({ jobId, bytes }, i) => store.write(jobId, pieces(bytes, [333 + i, 1700, 41]), { ttlSeconds: 60 })));
    expect(written.map((w) => w.sizeBytes)).toEqual(uploads.map((u) => u.bytes.length));
    // the cap was reached (uploads did overlap) and never passed
    expect(mostInFlight).toBe(3);
    for (const { jobId, bytes } of uploads) {
      expect((await collect(store.read(jobId))).equals(bytes)).toBe(true);
      expect(await redis.strlen(chunkedBlobKeys.chunk(jobId, 0))).toBe(1000);
      await store.delete(jobId);
    }
  });
});
