import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { RedisChunkedBlobStore } from '@app/blob-store';
import { ErrorCode, ServiceError } from '@app/contracts';
import { receiveMultipartUpload } from './multipart-upload';

// a real Redis behind the real store: TEST_REDIS_URL's database
const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/10';

describe('receiveMultipartUpload (busboy → blob store)', () => {
  let redis: Redis;
  let server: http.Server;
  let base: string;
  let lastJob = '';
  let check: ((fields: Record<string, unknown>) => void) | undefined;
  const keysOf = (jobId: string) => redis.keys(`tx:audio:${jobId}*`);

  beforeAll(async () => {
    redis = new Redis(url);
    const store = new RedisChunkedBlobStore(redis, 64 * 1024);
    server = http.createServer((request, response) => {
      lastJob = `mp-${randomBytes(6).toString('hex')}`;
      const jobId = lastJob;
      receiveMultipartUpload(request, { store, maxBytes: 1024 * 1024, ttlSeconds: 60, newJobId: () => jobId, checkFieldsBeforeFile: check }).then(
        async ({ fields, file }) => {
          const stored = file ? Buffer.concat(await collect(store.read(file.jobId))) : undefined;
          response.end(JSON.stringify({ fields, file, sha: stored?.toString('base64').slice(0, 40), length: stored?.length }));
        },
        (error: Error) => {
          response.statusCode = error instanceof ServiceError ? 400 : 500;
          response.end(JSON.stringify({ code: (error as ServiceError).code, message: error.message }));
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await redis.quit();
  });
  afterEach(() => (check = undefined));

  async function collect(source: AsyncIterable<Buffer>): Promise<Buffer[]> {
    const parts: Buffer[] = [];
    for await (const part of source) parts.push(part);
    return parts;
  }

  const post = async (form: FormData) => {
    const response = await fetch(base, { method: 'POST', body: form });
    return { status: response.status, body: (await response.json()) as any };
  };

  it('fields into a body as multer built it (a[] lists), the file into the store under the job id', async () => {
    const bytes = randomBytes(300_000);
    const form = new FormData();
    form.append('language', 'en');
    form.append('timestamp_granularities[]', 'word');
    form.append('timestamp_granularities[]', 'segment');
    form.append('file', new Blob([bytes]), 'réunion "été".wav');
    form.append('after', 'x');
    const { status, body } = await post(form);
    expect(status).toBe(200);
    expect(body.fields).toEqual({ language: 'en', timestamp_granularities: ['word', 'segment'], after: 'x' });
    expect(body.file).toMatchObject({ jobId: lastJob, size: 300_000, originalname: 'réunion "été".wav', claimed: false });
    expect(body.length).toBe(300_000);
    expect(body.sha).toBe(bytes.toString('base64').slice(0, 40));
    // 300 000 bytes in 64 KB chunks: 5 chunks and the manifest
    expect((await keysOf(lastJob)).length).toBe(6);
    await redis.del(...(await keysOf(lastJob)));
  });

  it('past maxBytes: upload_too_large while streaming, nothing left in the store', async () => {
    const form = new FormData();
    form.append('file', new Blob([randomBytes(1024 * 1024 + 1)]), 'big.wav');
    const { status, body } = await post(form);
    expect(status).toBe(400);
    expect(body.code).toBe('upload_too_large');
    expect(await keysOf(lastJob)).toEqual([]);
  });

  it('a file in another field, or a second file, is refused and nothing stays stored', async () => {
    const wrong = new FormData();
    wrong.append('audio', new Blob([randomBytes(1000)]), 'a.wav');
    expect((await post(wrong)).body.message).toMatch(/multipart field "file"/);
    // the first file is stored whole before the second arrives (a field between them gives the store time)
    const two = new FormData();
    two.append('file', new Blob([randomBytes(200_000)]), 'a.wav');
    two.append('padding', 'x'.repeat(60_000));
    two.append('file', new Blob([randomBytes(1000)]), 'b.wav');
    expect((await post(two)).body.message).toMatch(/one file only/);
    expect(await keysOf(lastJob)).toEqual([]);
  });

  it('fields before the file go through the route\'s check first: a bad one stores nothing', async () => {
    check = (fields) => {
      if (fields.temperature === 'hot') throw new ServiceError(ErrorCode.ValidationFailed, 'temperature must be a number', 'temperature');
    };
    const form = new FormData();
    form.append('temperature', 'hot');
    form.append('file', new Blob([randomBytes(200_000)]), 'a.wav');
    const { status, body } = await post(form);
    expect(status).toBe(400);
    expect(body.message).toBe('temperature must be a number');
    expect(await keysOf(lastJob)).toEqual([]);
  });

  it('a client gone mid-upload leaves no chunk behind', async () => {
    const boundary = 'xyz';
    const request = http.request(`${base}/`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': '10000000' } });
    request.on('error', () => undefined);
    request.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n`);
    request.write(randomBytes(500_000));
    // chunks are being written: then the client vanishes
    let seen = 0;
    for (let i = 0; i < 50 && seen === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      seen = (await keysOf(lastJob)).length;
    }
    expect(seen).toBeGreaterThan(0);
    request.destroy();
    let left = -1;
    for (let i = 0; i < 100 && left !== 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      left = (await keysOf(lastJob)).length;
    }
    expect(left).toBe(0);
  });

  it('a refusal answered late still reaches a fast client: the connection is cut only after the answer', async () => {
    const store = new RedisChunkedBlobStore(redis, 64 * 1024);
    // a loaded machine: the answer takes 400 ms, while the client pushes far past the discard limit
    const slow = http.createServer((request, response) => {
      const refuse = () => {
        throw new ServiceError(ErrorCode.ValidationFailed, 'temperature must be a number', 'temperature');
      };
      receiveMultipartUpload(request, { store, maxBytes: 64 * 1024 * 1024, ttlSeconds: 60, newJobId: () => `mp-${randomBytes(6).toString('hex')}`, checkFieldsBeforeFile: refuse, response }).catch(
        (error: Error) =>
          setTimeout(() => {
            response.statusCode = 400;
            response.setHeader('connection', 'close');
            response.end(JSON.stringify({ message: error.message }));
          }, 400),
      );
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const boundary = 'slow';
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="temperature"\r\n\r\nhot\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n`;
      const fileBytes = 40 * 1024 * 1024;
      const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        let answered = false;
        const request = http.request(
          { host: '127.0.0.1', port: (slow.address() as AddressInfo).port, method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + fileBytes) } },
          (response) => {
            answered = true;
            let text = '';
            response.on('data', (chunk: Buffer) => (text += chunk.toString()));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
          },
        );
        request.on('error', (error) => (answered ? undefined : reject(error)));
        const piece = Buffer.alloc(1024 * 1024, 1);
        void (async () => {
          request.write(head);
          for (let sent = 0; sent < fileBytes && !answered && !request.destroyed; sent += piece.length) {
            if (!request.write(piece)) await new Promise((r) => request.once('drain', r));
          }
        })();
      });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.text)).toEqual({ message: 'temperature must be a number' });
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });
});
