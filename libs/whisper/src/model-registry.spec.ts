import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, ServiceError } from '@app/contracts';
import { ensureWhisperModelFile } from './model-download';
import { listLocalWhisperModels, resolveWhisperModel } from './model-registry';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'models-'));
}

describe('resolveWhisperModel', () => {
  it('picks the q8_0 file for int8 and the f16 file for float16', () => {
    const dir = tempDir();
    expect(resolveWhisperModel('small', 'int8', dir).fileName).toBe('ggml-small-q8_0.bin');
    expect(resolveWhisperModel('small', 'float16', dir).fileName).toBe('ggml-small.bin');
    expect(resolveWhisperModel('large-v3', 'int8', dir).fileName).toBe('ggml-large-v3.bin');
    expect(resolveWhisperModel('small', 'int8', dir).url).toBe('https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-small-q8_0.bin');
  });

  it('uses a file the operator placed rather than downloading the other precision', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ggml-base.bin'), 'x');
    expect(resolveWhisperModel('base', 'int8', dir).fileName).toBe('ggml-base.bin');
  });

  it('resolves custom models only when their file exists', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ggml-synthetic-tiny.bin'), 'x');
    expect(resolveWhisperModel('synthetic-tiny', 'int8', dir).variant).toBe('custom');
    expect(() => resolveWhisperModel('nope', 'int8', dir)).toThrow(ServiceError);
    expect(() => resolveWhisperModel('../etc/passwd', 'int8', dir)).toThrow('not a valid model name');
  });

  it('lists local models once each', () => {
    const dir = tempDir();
    for (const f of ['ggml-a.bin', 'ggml-a-q8_0.bin', 'ggml-b.en.bin', 'notes.txt']) writeFileSync(join(dir, f), 'x');
    expect(listLocalWhisperModels(dir)).toEqual(['a', 'b.en']);
    expect(listLocalWhisperModels(join(dir, 'missing'))).toEqual([]);
  });
});

describe('ensureWhisperModelFile', () => {
  let server: Server;
  let base: string;
  const payload = Buffer.alloc(300_000, 7);
  let lastAuth: string | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      lastAuth = req.headers.authorization;
      if (req.url === '/ok.bin') {
        res.writeHead(200, { 'content-length': payload.length });
        res.end(payload);
      } else if (req.url === '/cut.bin') {
        // the connection drops half-way, as a flaky network would
        res.writeHead(200, { 'content-length': payload.length * 2 });
        res.write(payload, () => res.destroy());
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const spec = (dir: string, url: string) => ({ name: 'tiny', fileName: 'ggml-tiny.bin', path: join(dir, 'ggml-tiny.bin'), variant: 'f16' as const, url });

  it('downloads with the bearer token and renames atomically', async () => {
    const dir = tempDir();
    const logs: string[] = [];
    const path = await ensureWhisperModelFile(spec(dir, `${base}/ok.bin`), { authToken: 'hf_secret', timeoutMs: 10_000, log: (m) => logs.push(m) });
    expect(readFileSync(path).equals(payload)).toBe(true);
    expect(lastAuth).toBe('Bearer hf_secret');
    // the source sidecar is what `npm run models -- list` shows
    expect(readdirSync(dir).sort()).toEqual(['ggml-tiny.bin', 'ggml-tiny.bin.source.json']);
    expect(logs.some((l) => l.includes('100%'))).toBe(true);
  });

  it('downloads official models from HF_ENDPOINT by their repository path', async () => {
    const dir = tempDir();
    const requested: string[] = [];
    const mirror = createServer((req, res) => {
      requested.push(req.url ?? '');
      res.writeHead(200, { 'content-length': payload.length }).end(payload);
    });
    await new Promise<void>((r) => mirror.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}/`;
    try {
      const official = resolveWhisperModel('tiny', 'int8', dir);
      await ensureWhisperModelFile(official, { timeoutMs: 10_000, hfEndpoint: endpoint, log: () => undefined });
    } finally {
      await new Promise<void>((r) => mirror.close(() => r()));
    }
    expect(requested).toEqual(['/ggerganov/whisper.cpp/resolve/main/ggml-tiny-q8_0.bin']);
    expect(readFileSync(join(dir, 'ggml-tiny-q8_0.bin')).equals(payload)).toBe(true);
  });

  it.each([
    ['/missing.bin', []],
    // what arrived stays for the next try to resume, never under the final name
    ['/cut.bin', ['ggml-tiny.bin.partial']],
  ])('fails with model_unavailable naming the file for %s and leaves no file under its name', async (url, left) => {
    const dir = tempDir();
    const warnings: string[] = [];
    const error = await ensureWhisperModelFile(spec(dir, `${base}${url}`), { timeoutMs: 10_000, retryDelayMs: 5, log: () => undefined, warn: (m) => warnings.push(m) }).catch((e) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error.code).toBe(ErrorCode.ModelUnavailable);
    // the body names the file relative to MODEL_DIR; the server's path goes to the log only
    expect(error.message).toContain('place ggml-tiny.bin in MODEL_DIR');
    expect(error.message).not.toContain(dir);
    expect(warnings.join('\n')).toContain(join(dir, 'ggml-tiny.bin'));
    expect(readdirSync(dir)).toEqual(left);
  });

  it('keeps the server path out of the body when the failure itself names it', async () => {
    const dir = tempDir();
    const fetchImpl = async () => {
      throw new Error(`EACCES: permission denied, open '${join(dir, 'ggml-tiny.bin.partial-1')}'`);
    };
    const error = await ensureWhisperModelFile(spec(dir, `${base}/ok.bin`), { timeoutMs: 10_000, log: () => undefined, fetchImpl }).catch((e) => e);
    expect(error.code).toBe(ErrorCode.ModelUnavailable);
    expect(error.message).not.toContain(dir);
    expect(error.message).toContain("open 'MODEL_DIR/ggml-tiny.bin.partial-1'");
  });

  it('names a custom model to place without its path', async () => {
    const dir = tempDir();
    const custom = { name: 'mine', fileName: 'ggml-mine.bin', path: join(dir, 'ggml-mine.bin'), variant: 'custom' as const };
    const error = await ensureWhisperModelFile(custom, { timeoutMs: 10_000, log: () => undefined }).catch((e) => e);
    expect(error.message).toMatch(/place ggml-mine\.bin in MODEL_DIR$/);
    expect(error.message).not.toContain(dir);
  });

  it('fails fast, not hangs, when the host is unreachable', async () => {
    const started = Date.now();
    const error = await ensureWhisperModelFile(spec(tempDir(), 'http://127.0.0.1:1/x.bin'), { timeoutMs: 60_000, log: () => undefined }).catch((e) => e);
    expect(error.code).toBe(ErrorCode.ModelUnavailable);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
