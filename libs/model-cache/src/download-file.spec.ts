import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { downloadFile, DownloadOptions } from './download-file';
import { hubFileUrl, sha256FromEtag } from './hub';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'download-'));
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface Seen {
  url: string;
  range?: string;
  auth?: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen, index: number) => void;

/** Streams data[from..] in chunks; `dropAt` (absolute byte) cuts the connection there, `stallAt` stops sending. */
function stream(res: ServerResponse, data: Buffer, from: number, opts: { chunk?: number; everyMs?: number; dropAt?: number; stallAt?: number } = {}): void {
  const chunk = opts.chunk ?? 16 * 1024;
  const everyMs = opts.everyMs ?? 0;
  let at = from;
  const next = () => {
    if (res.destroyed) return;
    // the bytes sent so far arrive, then the connection dies
    if (opts.dropAt !== undefined && at >= opts.dropAt) return void setTimeout(() => res.destroy(), 50);
    if (opts.stallAt !== undefined && at >= opts.stallAt) return; // keeps the connection, sends nothing
    if (at >= data.length) return void res.end();
    let end = Math.min(data.length, at + chunk);
    if (opts.dropAt !== undefined && end > opts.dropAt && at < opts.dropAt) end = opts.dropAt;
    if (opts.stallAt !== undefined && end > opts.stallAt && at < opts.stallAt) end = opts.stallAt;
    const piece = data.subarray(at, end);
    at = end;
    res.write(piece, () => (everyMs > 0 ? setTimeout(next, everyMs) : setImmediate(next)));
  };
  next();
}

/** Answers a GET as a static server would: 206 for a satisfiable Range when honorRange, else 200. */
function serve(req: IncomingMessage, res: ServerResponse, data: Buffer, opts: { honorRange?: boolean; headers?: Record<string, string | number>; chunk?: number; everyMs?: number; dropAt?: number; stallAt?: number } = {}): void {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const headers = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', ...(opts.headers ?? {}) };
  if (range && opts.honorRange !== false) {
    const start = Number(range[1]);
    if (start >= data.length) {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${data.length}` }).end();
      return;
    }
    res.writeHead(206, { ...headers, 'content-length': data.length - start, 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` });
    stream(res, data, start, opts);
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': data.length });
  stream(res, data, 0, opts);
}

describe('downloadFile', () => {
  let server: Server;
  let base: string;
  let handler: Handler;
  let seen: Seen[];
  const payload = randomBytes(400_000);

  beforeAll(async () => {
    server = createServer((req, res) => {
      const entry = { url: req.url ?? '', range: req.headers.range, auth: req.headers.authorization };
      seen.push(entry);
      handler(req, res, entry, seen.length - 1);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    seen = [];
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const options = (extra: Partial<DownloadOptions> = {}, logs: string[] = []): DownloadOptions => ({
    timeoutMs: 30_000,
    connectTimeoutMs: 2_000,
    stallTimeoutMs: 2_000,
    retryDelayMs: 10,
    lockPollMs: 50,
    log: (m) => logs.push(m),
    ...extra,
  });

  it('keeps going past the connect timeout while bytes flow (the old 20 s limit cut every long download)', async () => {
    const dir = tempDir();
    const path = join(dir, 'slow.bin');
    // ~1.3 s of body against a 300 ms connect timeout
    handler = (req, res) => serve(req, res, payload, { chunk: 16 * 1024, everyMs: 50 });
    const started = Date.now();
    const result = await downloadFile(`${base}/slow.bin`, path, options({ connectTimeoutMs: 300, stallTimeoutMs: 1_000 }));
    expect(Date.now() - started).toBeGreaterThan(900);
    expect(readFileSync(path).equals(payload)).toBe(true);
    expect(result).toMatchObject({ outcome: 'downloaded', attempts: 1, bytes: payload.length, sha256: sha256(payload) });
    expect(seen).toHaveLength(1);
  });

  it('fails a transfer that stops sending with a stall error, keeping the bytes for a resume', async () => {
    const dir = tempDir();
    const path = join(dir, 'stall.bin');
    handler = (req, res) => serve(req, res, payload, { stallAt: 100_000, honorRange: false });
    const error = await downloadFile(`${base}/stall.bin`, path, options({ stallTimeoutMs: 300, maxAttempts: 2 })).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/2 tries failed, the last: stalled: no data for 0\.3 s \(MODEL_DOWNLOAD_STALL_S\) at byte 100000 of 400000/);
    expect(existsSync(path)).toBe(false);
    expect(statSync(`${path}.partial`).size).toBe(100_000);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('resumes a dropped connection with Range from the byte it had, byte-identical', async () => {
    const dir = tempDir();
    const path = join(dir, 'drop.bin');
    const dropAt = 150_000;
    handler = (req, res, _seen, index) => serve(req, res, payload, index === 0 ? { dropAt } : {});
    const logs: string[] = [];
    const result = await downloadFile(`${base}/drop.bin`, path, options({}, logs));
    expect(seen.map((s) => s.range)).toEqual([undefined, `bytes=${dropAt}-`]);
    expect(readFileSync(path).equals(payload)).toBe(true);
    expect(result).toMatchObject({ attempts: 2, transferredBytes: payload.length, sha256: sha256(payload) });
    expect(logs.join('\n')).toMatch(/try 1\/5 failed .*; resuming at byte 150000/);
    expect(readdirSync(dir).sort()).toEqual(['drop.bin', 'drop.bin.source.json']);
  });

  it('follows the hub redirect by hand, checks X-Linked-Size / X-Linked-Etag and records the source', async () => {
    const dir = tempDir();
    const path = join(dir, 'model.bin');
    handler = (req, res) => {
      if (req.url === '/org/repo/resolve/main/model.bin') {
        res.writeHead(302, { location: '/cdn/abc?sig=1', 'x-linked-etag': `"${sha256(payload)}"`, 'x-linked-size': String(payload.length), etag: `"${sha256(payload)}"` }).end();
      } else serve(req, res, payload, { headers: { etag: '"d41d8cd98f00b204e9800998ecf8427e"' } });
    };
    const progress: [number, number | undefined][] = [];
    const url = hubFileUrl('org/repo', 'model.bin', base);
    const result = await downloadFile(url, path, options({ authToken: 'hf_x', onProgress: (r, t) => progress.push([r, t]) }));
    expect(result.sha256Verified).toBe(true);
    expect(seen.map((s) => s.url)).toEqual(['/org/repo/resolve/main/model.bin', '/cdn/abc?sig=1']);
    // same origin here: the token goes along (a CDN on another origin never sees it: next test)
    expect(seen[1].auth).toBe('Bearer hf_x');
    expect(progress[progress.length - 1]).toEqual([payload.length, payload.length]);
    expect(progress.every(([r, t], i) => t === payload.length && (i === 0 || r >= progress[i - 1][0]))).toBe(true);
    const source = JSON.parse(readFileSync(`${path}.source.json`, 'utf8'));
    expect(source).toMatchObject({ url, bytes: payload.length, sha256: sha256(payload), sha256_verified: true });
  });

  it('does not send the token to another origin after a redirect', async () => {
    const cdn = createServer((req, res) => {
      seen.push({ url: `cdn:${req.url}`, auth: req.headers.authorization });
      serve(req, res, payload);
    });
    await new Promise<void>((r) => cdn.listen(0, '127.0.0.1', r));
    const cdnBase = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
    handler = (_req, res) => res.writeHead(302, { location: `${cdnBase}/file`, 'x-linked-size': String(payload.length) }).end();
    try {
      await downloadFile(`${base}/r/resolve/main/f.bin`, join(tempDir(), 'f.bin'), options({ authToken: 'hf_secret' }));
    } finally {
      await new Promise<void>((r) => cdn.close(() => r()));
    }
    expect(seen.map((s) => s.auth)).toEqual(['Bearer hf_secret', undefined]);
  });

  it('rejects a file whose SHA-256 differs from the published one, deletes it and names both hashes', async () => {
    const dir = tempDir();
    const path = join(dir, 'ggml-tiny.bin');
    const wrong = 'ab'.repeat(32);
    handler = (req, res) => serve(req, res, payload, { headers: { 'x-linked-etag': `"${wrong}"` } });
    const error = await downloadFile(`${base}/x`, path, options()).catch((e) => e);
    expect(error.message).toBe(
      `SHA-256 mismatch for ggml-tiny.bin: the hub publishes ${wrong} (X-Linked-Etag), the download has ${sha256(payload)}; the file was deleted`,
    );
    expect(readdirSync(dir)).toEqual([]);
    expect(seen).toHaveLength(1);
  });

  it('rejects a transfer whose size differs from X-Linked-Size, deleting what it got', async () => {
    const dir = tempDir();
    const path = join(dir, 'size.bin');
    handler = (req, res) => {
      if (req.url?.startsWith('/cdn/')) serve(req, res, payload);
      else res.writeHead(302, { location: '/cdn/size', 'x-linked-size': String(payload.length + 5) }).end();
    };
    const error = await downloadFile(`${base}/size.bin`, path, options()).catch((e) => e);
    expect(error.message).toBe(`size mismatch for size.bin: the hub publishes ${payload.length + 5} bytes (X-Linked-Size), the server sends ${payload.length}; the download was deleted`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects a transfer that ends short of the published size once resuming shows nothing more (416)', async () => {
    const dir = tempDir();
    const path = join(dir, 'short.bin');
    const short = payload.subarray(0, 300_000);
    // the hub says 400000 bytes; the CDN has (and says) only 300000 via chunked 200 without a length
    handler = (req, res) => {
      if (!req.url?.startsWith('/cdn')) return void res.writeHead(302, { location: '/cdn/short', 'x-linked-size': String(payload.length) }).end();
      if (req.headers.range) return void res.writeHead(416, { 'content-range': `bytes */${short.length}` }).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(short);
    };
    const error = await downloadFile(`${base}/short.bin`, path, options()).catch((e) => e);
    expect(error.message).toMatch(/size mismatch for short\.bin/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('starts over when the server ignores Range (200 instead of 206)', async () => {
    const dir = tempDir();
    const path = join(dir, 'norange.bin');
    handler = (req, res, _s, index) => serve(req, res, payload, { honorRange: false, ...(index === 0 ? { dropAt: 200_000 } : {}) });
    const logs: string[] = [];
    const result = await downloadFile(`${base}/norange.bin`, path, options({}, logs));
    expect(seen.map((s) => s.range)).toEqual([undefined, 'bytes=200000-']);
    expect(logs.join('\n')).toContain('the server ignored Range (200, not 206); starting over from byte 0');
    expect(readFileSync(path).equals(payload)).toBe(true);
    expect(result.transferredBytes).toBe(200_000 + payload.length);
  });

  it('finishes from a complete partial file when the server answers 416 with the same size', async () => {
    const dir = tempDir();
    const path = join(dir, 'done.bin');
    writeFileSync(`${path}.partial`, payload);
    handler = (req, res) => serve(req, res, payload, { headers: { 'x-linked-etag': sha256(payload) } });
    const result = await downloadFile(`${base}/done.bin`, path, options());
    expect(seen.map((s) => s.range)).toEqual([`bytes=${payload.length}-`]);
    expect(result).toMatchObject({ sha256Verified: true, transferredBytes: 0 });
    expect(readFileSync(path).equals(payload)).toBe(true);
  });

  it('starts over when a leftover partial file does not fit (416 with another size)', async () => {
    const dir = tempDir();
    const path = join(dir, 'other.bin');
    writeFileSync(`${path}.partial`, randomBytes(payload.length + 10));
    handler = (req, res) => serve(req, res, payload);
    const result = await downloadFile(`${base}/other.bin`, path, options());
    expect(seen.map((s) => s.range)).toEqual([`bytes=${payload.length + 10}-`, undefined]);
    expect(result.attempts).toBe(2);
    expect(readFileSync(path).equals(payload)).toBe(true);
  });

  it('gives up after 5 tries with a clear error, backing off between them', async () => {
    const dir = tempDir();
    const path = join(dir, 'busy.bin');
    const at: number[] = [];
    handler = (_req, res) => {
      at.push(Date.now());
      res.writeHead(503).end();
    };
    const error = await downloadFile(`${base}/busy.bin`, path, options({ retryDelayMs: 40 })).catch((e) => e);
    expect(error.message).toBe('5 tries failed, the last: HTTP 503');
    expect(seen).toHaveLength(5);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    // 40, 80, 160, 320 ms
    expect(gaps[3]).toBeGreaterThanOrEqual(300);
    expect(gaps[3]).toBeGreaterThan(gaps[0]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('does not retry a 404', async () => {
    handler = (_req, res) => res.writeHead(404).end();
    const error = await downloadFile(`${base}/missing.bin`, join(tempDir(), 'missing.bin'), options()).catch((e) => e);
    expect(error.message).toBe('HTTP 404');
    expect(seen).toHaveLength(1);
  });

  it('fails at once, without retries, when the server never answers (connect timeout)', async () => {
    handler = () => undefined; // accepts, never sends headers
    const started = Date.now();
    const error = await downloadFile(`${base}/silent.bin`, join(tempDir(), 'silent.bin'), options({ connectTimeoutMs: 300 })).catch((e) => e);
    expect(error.message).toMatch(/no response from 127\.0\.0\.1:\d+ within 0\.3 s \(MODEL_DOWNLOAD_CONNECT_TIMEOUT_S\)/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(seen).toHaveLength(1);
  });

  it('fails fast on a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const started = Date.now();
    const error = await downloadFile(`http://127.0.0.1:${port}/x.bin`, join(tempDir(), 'x.bin'), options({ retryDelayMs: 1000 })).catch((e) => e);
    expect(error.message).toMatch(/^network: .*ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('honours the overall limit', async () => {
    handler = (req, res) => serve(req, res, payload, { chunk: 4096, everyMs: 50 });
    const path = join(tempDir(), 'limit.bin');
    const error = await downloadFile(`${base}/limit.bin`, path, options({ timeoutMs: 500 })).catch((e) => e);
    expect(error.message).toMatch(/^not finished within the 0\.5 s limit \(MODEL_DOWNLOAD_TIMEOUT_S\)/);
    expect(existsSync(path)).toBe(false);
  });

  it('makes concurrent calls for one file in one process share one GET', async () => {
    const dir = tempDir();
    const path = join(dir, 'shared.bin');
    handler = (req, res) => serve(req, res, payload, { chunk: 32 * 1024, everyMs: 20 });
    const progressB: number[] = [];
    const results = await Promise.all([
      downloadFile(`${base}/shared.bin`, path, options()),
      downloadFile(`${base}/shared.bin`, join(dir, '.', 'shared.bin'), options({ onProgress: (r) => progressB.push(r) })),
      downloadFile(`${base}/shared.bin`, path, options()),
    ]);
    expect(seen).toHaveLength(1);
    expect(new Set(results.map((r) => r.sha256))).toEqual(new Set([sha256(payload)]));
    // the second caller sees the shared download's progress
    expect(progressB[progressB.length - 1]).toBe(payload.length);
    expect(readFileSync(path).equals(payload)).toBe(true);
  });

  it('returns at once when the file is there already', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'here.bin'), 'x');
    const result = await downloadFile(`${base}/here.bin`, join(dir, 'here.bin'), options());
    expect(result).toMatchObject({ outcome: 'present', bytes: 1 });
    expect(seen).toHaveLength(0);
  });

  describe('across processes sharing the directory', () => {
    let moduleDir: string;
    const children: ChildProcess[] = [];

    beforeAll(() => {
      // this module, compiled to CommonJS for a child node process (no dist build needed)
      moduleDir = tempDir();
      for (const file of ['download-file', 'download-lock', 'hub']) {
        const source = readFileSync(join(__dirname, `${file}.ts`), 'utf8');
        const output = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
        writeFileSync(join(moduleDir, `${file}.js`), output.outputText);
      }
    });
    afterAll(() => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    });

    /** A second process downloading url to path; resolves on its first progress line (the lock is held by then). */
    function childDownload(url: string, path: string): { child: ChildProcess; started: Promise<void>; done: Promise<string> } {
      const script = `
        const { downloadFile } = require(${JSON.stringify(join(moduleDir, 'download-file.js'))});
        downloadFile(${JSON.stringify(url)}, ${JSON.stringify(path)}, {
          timeoutMs: 30000, stallTimeoutMs: 2000, lockPollMs: 50, retryDelayMs: 10, log: () => {},
          onProgress: (r) => { if (r > 0 && !global.said) { global.said = true; console.log('progress'); } },
        }).then((r) => console.log('result ' + r.outcome), (e) => { console.log('error ' + e.message); process.exitCode = 1; });`;
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      let out = '';
      const started = new Promise<void>((resolve) => child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('progress')) resolve();
      }));
      const done = new Promise<string>((resolve) => child.on('exit', () => resolve(out)));
      return { child, started, done };
    }

    it('one download when two processes want the same file: the second waits for the first', async () => {
      const dir = tempDir();
      const path = join(dir, 'two.bin');
      handler = (req, res) => serve(req, res, payload, { chunk: 16 * 1024, everyMs: 30 });
      const other = childDownload(`${base}/two.bin`, path);
      await other.started;
      const logs: string[] = [];
      const waitProgress: number[] = [];
      const result = await downloadFile(`${base}/two.bin`, path, options({ onProgress: (r) => waitProgress.push(r) }, logs));
      expect(result.outcome).toBe('present');
      expect(await other.done).toContain('result downloaded');
      expect(seen).toHaveLength(1);
      expect(logs.join('\n')).toMatch(new RegExp(`two\\.bin: pid ${other.child.pid} on .* is downloading it into this MODEL_DIR; waiting for it`));
      // the waiter saw the other process's partial file grow
      expect(waitProgress.some((r) => r > 0 && r < payload.length)).toBe(true);
      expect(readFileSync(path).equals(payload)).toBe(true);
      expect(existsSync(`${path}.lock`)).toBe(false);
    });

    it('takes over from a killed process and resumes its partial file', async () => {
      const dir = tempDir();
      const path = join(dir, 'killed.bin');
      handler = (req, res) => serve(req, res, payload, { chunk: 16 * 1024, everyMs: 30 });
      const other = childDownload(`${base}/killed.bin`, path);
      await other.started;
      // killed once part of the file is on disk (a loaded machine may report progress before the write lands)
      for (let i = 0; i < 200 && !(existsSync(`${path}.partial`) && statSync(`${path}.partial`).size > 0); i++) await new Promise((r) => setTimeout(r, 25));
      other.child.kill('SIGKILL');
      await other.done;
      const kept = statSync(`${path}.partial`).size;
      expect(kept).toBeGreaterThan(0);
      expect(existsSync(`${path}.lock`)).toBe(true);
      const logs: string[] = [];
      const result = await downloadFile(`${base}/killed.bin`, path, options({}, logs));
      expect(logs.join('\n')).toContain(`killed.bin: taking over a stale download lock (pid ${other.child.pid} on ${os.hostname()} is gone)`);
      expect(result).toMatchObject({ outcome: 'downloaded', transferredBytes: payload.length - kept });
      expect(seen[seen.length - 1].range).toBe(`bytes=${kept}-`);
      expect(readFileSync(path).equals(payload)).toBe(true);
    });

    it('takes over a lock from another host that was not refreshed for 2 × the stall timeout', async () => {
      const dir = tempDir();
      const path = join(dir, 'remote.bin');
      writeFileSync(`${path}.lock`, JSON.stringify({ pid: 1, host: 'some-other-host', startedAt: Date.now(), token: 'x' }));
      handler = (req, res) => serve(req, res, payload);
      const logs: string[] = [];
      const started = Date.now();
      // stall 200 ms: stale after 400 ms without a refresh
      const result = await downloadFile(`${base}/remote.bin`, path, options({ stallTimeoutMs: 200 }, logs));
      expect(Date.now() - started).toBeGreaterThanOrEqual(380);
      expect(result.outcome).toBe('downloaded');
      expect(logs.join('\n')).toMatch(/pid 1 on some-other-host is downloading it into this MODEL_DIR; waiting for it[\s\S]*taking over a stale download lock \(pid 1 on some-other-host has not refreshed it for \d+ s\)/);
    });

    it('waits for a live lock from another host and fails at the overall limit, naming the holder', async () => {
      const dir = tempDir();
      const path = join(dir, 'busy.bin');
      writeFileSync(`${path}.lock`, JSON.stringify({ pid: 1, host: 'some-other-host', startedAt: Date.now(), token: 'x' }));
      const refresh = setInterval(() => utimesSync(`${path}.lock`, new Date(), new Date()), 50);
      try {
        const error = await downloadFile(`${base}/busy.bin`, path, options({ timeoutMs: 600, stallTimeoutMs: 300 })).catch((e) => e);
        expect(error.message).toBe('waited 0.6 s for pid 1 on some-other-host downloading busy.bin (lock busy.bin.lock); it did not finish');
      } finally {
        clearInterval(refresh);
      }
      expect(seen).toHaveLength(0);
    });

    it('stops when another process took its lock over (it never writes the same partial file as the new holder)', async () => {
      const dir = tempDir();
      const path = join(dir, 'stolen.bin');
      handler = (req, res) => serve(req, res, payload, { chunk: 16 * 1024, everyMs: 30 });
      let stolen = false;
      const error = await downloadFile(`${base}/stolen.bin`, path, options({
        stallTimeoutMs: 400,
        onProgress: (received) => {
          if (received > 0 && !stolen) {
            stolen = true;
            writeFileSync(`${path}.lock`, JSON.stringify({ pid: 1, host: 'some-other-host', startedAt: Date.now(), token: 'theirs' }));
          }
        },
      })).catch((e) => e);
      expect(error.message).toBe('another process took over the download lock stolen.bin.lock');
      expect(existsSync(path)).toBe(false);
      // the new holder's lock stays
      expect(JSON.parse(readFileSync(`${path}.lock`, 'utf8')).token).toBe('theirs');
    });

    it('takes over an old lock file whatever it holds', async () => {
      const dir = tempDir();
      const path = join(dir, 'junk.bin');
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${path}.lock`, 'not json');
      const old = new Date(Date.now() - 3_600_000);
      utimesSync(`${path}.lock`, old, old);
      handler = (req, res) => serve(req, res, payload);
      const logs: string[] = [];
      await downloadFile(`${base}/junk.bin`, path, options({}, logs));
      expect(logs.join('\n')).toMatch(/taking over a stale download lock \(unknown holder has not refreshed it for 3600 s\)/);
    });
  });
});

describe('hub addresses', () => {
  it('builds huggingface_hub paths under the endpoint, with or without a trailing slash', () => {
    expect(hubFileUrl('ggerganov/whisper.cpp', 'ggml-tiny-q8_0.bin')).toBe('https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-tiny-q8_0.bin');
    expect(hubFileUrl('onnx-community/pyannote-segmentation-3.0', 'onnx/model.onnx', 'https://hf-mirror.example.com/')).toBe(
      'https://hf-mirror.example.com/onnx-community/pyannote-segmentation-3.0/resolve/main/onnx/model.onnx',
    );
    expect(hubFileUrl('a/b', 'c.bin', 'http://mirror:8080/hf')).toBe('http://mirror:8080/hf/a/b/resolve/main/c.bin');
  });

  it('reads a SHA-256 only from a 64-hex ETag', () => {
    const hex = 'a'.repeat(64);
    expect(sha256FromEtag(`"${hex}"`)).toBe(hex);
    expect(sha256FromEtag(`W/"${hex.toUpperCase()}"`)).toBe(hex);
    expect(sha256FromEtag('"d41d8cd98f00b204e9800998ecf8427e"')).toBeUndefined();
    expect(sha256FromEtag('"0123456789012345678901234567890123456789"')).toBeUndefined();
    expect(sha256FromEtag(null)).toBeUndefined();
  });
});
