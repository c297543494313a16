import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ConfigError, S3Settings } from '@app/config';
import { LocalS3, S3RVER_CREDENTIALS, startLocalS3 } from '../../../test/support/s3-server';
import { BlobMissingError } from './blob-store';
import { createBlobStore } from './blob-store-factory';
import { MIN_PART_BYTES, S3BlobStore } from './s3-blob-store';
import { assertBucketReady } from './s3-client';

const BUCKET = 'blob-store-spec';
const PREFIX = 'audio/';

/** `total` bytes as pieces of uneven sizes, as a network stream delivers them. */
async function* pieces(bytes: Buffer, fail?: { afterBytes: number; error: Error }): AsyncIterable<Buffer> {
  const sizes = [65_536, 1_000_003, 17, 250_000];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    if (fail && at >= fail.afterBytes) throw fail.error;
    const next = bytes.subarray(at, at + sizes[i % sizes.length]);
    at += next.length;
    yield next;
  }
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('S3BlobStore against s3rver', () => {
  let s3: LocalS3;
  let store: S3BlobStore;
  let settings: S3Settings;

  beforeAll(async () => {
    s3 = await startLocalS3();
    await s3.createBucket(BUCKET);
    settings = { endpoint: s3.endpoint, bucket: BUCKET, prefix: PREFIX, region: 'us-east-1', forcePathStyle: true };
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
    store = new S3BlobStore(client, settings);
  });

  afterAll(async () => {
    await store?.close();
    await s3?.stop();
  });

  const partUploads = (key: string) => s3.requests.filter((r) => r.method === 'PUT' && r.path === `/${BUCKET}/${key}` && r.query.has('partNumber'));

  it('a blob under one part is one PUT; it reads back, has its size, and is gone after delete', async () => {
    const bytes = randomBytes(300_000);
    const written = await store.write('small', pieces(bytes), { ttlSeconds: 60 });
    expect(written).toEqual({ sizeBytes: bytes.length, parts: 0 });
    expect(partUploads('audio/small')).toHaveLength(0);
    expect(await s3.keys(BUCKET, PREFIX)).toEqual(['audio/small']);
    expect(await store.size('small')).toBe(bytes.length);
    expect(sha(await collect(store.read('small')))).toBe(sha(bytes));
    await store.delete('small');
    expect(await store.size('small')).toBeNull();
    await expect(collect(store.read('small'))).rejects.toBeInstanceOf(BlobMissingError);
    // deleting what is not there is no error
    await store.delete('small');
  });

  it('a 12 MB blob goes up as a multipart upload of 5 MiB parts and a smaller last one, and reads back byte for byte', async () => {
    const bytes = randomBytes(12 * 1024 * 1024 + 123);
    const written = await store.write('big', pieces(bytes), { ttlSeconds: 60 });
    expect(written).toEqual({ sizeBytes: bytes.length, parts: 3 });
    expect(partUploads('audio/big').map((r) => r.bodyBytes)).toEqual([MIN_PART_BYTES, MIN_PART_BYTES, bytes.length - 2 * MIN_PART_BYTES]);
    expect(await store.size('big')).toBe(bytes.length);
    expect(sha(await collect(store.read('big')))).toBe(sha(bytes));
    await store.delete('big');
  });

  it('a source that fails after a part was uploaded: the error comes back as thrown, the upload is aborted, no object is left', async () => {
    const refused = new Error('upload_too_large');
    await expect(store.write('refused', pieces(randomBytes(8 * 1024 * 1024), { afterBytes: 6 * 1024 * 1024, error: refused }), { ttlSeconds: 60 })).rejects.toBe(refused);
    expect(partUploads('audio/refused')).toHaveLength(1);
    const abort = s3.requests.find((r) => r.method === 'DELETE' && r.path === `/${BUCKET}/audio/refused` && r.query.has('uploadId'));
    expect(abort).toBeDefined();
    expect(await store.size('refused')).toBeNull();
    expect(await s3.keys(BUCKET, 'audio/refused')).toEqual([]);
  });

  it('an empty blob is stored and read back empty', async () => {
    expect(await store.write('empty', pieces(Buffer.alloc(0)), { ttlSeconds: 60 })).toEqual({ sizeBytes: 0, parts: 0 });
    expect((await collect(store.read('empty'))).length).toBe(0);
    await store.delete('empty');
  });

  it('sweepStale deletes only objects under the prefix older than the age limit', async () => {
    await store.write('old-1', pieces(randomBytes(1000)), { ttlSeconds: 60 });
    await store.write('old-2', pieces(randomBytes(1000)), { ttlSeconds: 60 });
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'elsewhere/keep', Body: 'not ours' }));
    // nothing is older than 60 s yet
    expect((await store.sweepStale(60)).deleted).toEqual([]);
    expect(await s3.keys(BUCKET, PREFIX)).toHaveLength(2);
    const later = await store.sweepStale(60, Date.now() + 61_000);
    expect(later.deleted.sort()).toEqual(['audio/old-1', 'audio/old-2']);
    expect(await s3.keys(BUCKET, PREFIX)).toEqual([]);
    expect(await s3.keys(BUCKET, 'elsewhere/')).toEqual(['elsewhere/keep']);
  });

  it('startSweeping sweeps on its own timer until close()', async () => {
    const sweeping = new S3BlobStore(new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS }), settings);
    await sweeping.write('stale', pieces(randomBytes(1000)), { ttlSeconds: 60 });
    const swept: string[] = [];
    // age limit 0: everything under the prefix is stale
    sweeping.startSweeping(0, 50, (error) => swept.push(`error ${error.message}`), (result) => swept.push(...result.deleted));
    const deadline = Date.now() + 5_000;
    while (!swept.includes('audio/stale') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await sweeping.close();
    expect(swept).toContain('audio/stale');
    expect(await s3.keys(BUCKET, PREFIX)).toEqual([]);
  });

  it('createBlobStore picks the S3 store for BLOB_STORE=s3 (no Redis connection made)', async () => {
    const connect = jest.fn();
    const made = createBlobStore({ audioRedisUrl: 'redis://unused', blobStore: 's3', s3: settings }, connect);
    expect(made).toBeInstanceOf(S3BlobStore);
    expect(connect).not.toHaveBeenCalled();
    await made.close();
  });

  describe('boot check', () => {
    const clientWith = (accessKeyId: string, endpoint = s3.endpoint) =>
      new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey: 'S3RVER' }, maxAttempts: 1 });

    it('passes for an existing bucket', async () => {
      await expect(assertBucketReady(clientWith('S3RVER'), settings)).resolves.toBe('ready');
    });

    it('a missing bucket is a ConfigError naming S3_BUCKET', async () => {
      const check = assertBucketReady(clientWith('S3RVER'), { ...settings, bucket: 'no-such-bucket' });
      await expect(check).rejects.toBeInstanceOf(ConfigError);
      await expect(assertBucketReady(clientWith('S3RVER'), { ...settings, bucket: 'no-such-bucket' })).rejects.toThrow(/S3_BUCKET.*does not exist/);
    });

    // s3rver checks the access key id of a SigV4 request, not its signature: an unknown key id is how it refuses
    it('refused credentials are a ConfigError naming AWS_ACCESS_KEY_ID', async () => {
      await expect(assertBucketReady(clientWith('UNKNOWNKEY'), settings)).rejects.toThrow(/AWS_ACCESS_KEY_ID.*refused the credentials/);
    });

    it('an endpoint nobody listens on is unreachable, not a config error', async () => {
      await expect(assertBucketReady(clientWith('S3RVER', 'http://127.0.0.1:9'), settings)).resolves.toBe('unreachable');
    });
  });
});
