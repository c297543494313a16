/**
 * A local stand-in for the Hugging Face hub, reached through HF_ENDPOINT: `/<repo>/resolve/main/<file>`
 * answers as huggingface.co does — LFS files with a 302 to a CDN path (`/cdn/…`) carrying
 * X-Linked-Etag (the SHA-256, quoted), X-Linked-Size and ETag; small files with a 200 and a git ETag.
 * The CDN honours Range and can be slowed down, cut once mid-file, or the hub can publish a wrong
 * SHA-256 once, to prove downloads that finish.
 */
import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface HubFile {
  data: Buffer;
  /** LFS files redirect to the CDN with X-Linked-*; others answer directly */
  lfs: boolean;
}

export interface HubRequest {
  /** "hub" for /<repo>/resolve/…, "cdn" for the redirect target */
  kind: 'hub' | 'cdn';
  /** the repository path, e.g. "ggerganov/whisper.cpp/resolve/main/ggml-tiny-q8_0.bin" */
  path: string;
  range?: string;
  status: number;
  /** bytes the response carried (cdn and direct files) */
  sentBytes?: number;
  at: number;
  /** when the response ended or the connection closed */
  endedAt?: number;
}

interface Behaviour {
  /** CDN bytes per second (0: as fast as possible) */
  bytesPerSecond: number;
  /** cut the connection once when a transfer reaches this byte */
  dropOnceAt?: number;
  /** publish this wrong SHA-256 on the next hub answer, once */
  wrongShaOnce?: string;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export class HubStandIn {
  readonly requests: HubRequest[] = [];
  private readonly files = new Map<string, HubFile>();
  private readonly behaviours = new Map<string, Behaviour>();
  private server?: Server;
  url = '';

  /** Serves data at `/<repo>/resolve/main/<file>`. */
  add(repo: string, file: string, data: Buffer, lfs = true): string {
    const path = `${repo}/resolve/main/${file}`;
    this.files.set(path, { data, lfs });
    this.behaviours.set(path, { bytesPerSecond: 0 });
    return path;
  }

  behave(path: string, change: Partial<Behaviour>): void {
    const current = this.behaviours.get(path);
    if (!current) throw new Error(`no file ${path}`);
    Object.assign(current, change);
  }

  /** Requests for one file (hub and CDN), optionally only those starting at byte 0 (whole transfers). */
  requestsFor(path: string, kind?: 'hub' | 'cdn'): HubRequest[] {
    return this.requests.filter((r) => r.path === path && (kind === undefined || r.kind === kind));
  }

  /** CDN or direct transfers of a file that started at byte 0: the number of full downloads begun. */
  fullTransfers(path: string): number {
    const file = this.files.get(path);
    return this.requests.filter((r) => r.path === path && r.kind === (file?.lfs ? 'cdn' : 'hub') && r.status === 200).length;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const cdn = /^\/cdn\/(.+)$/.exec(url.pathname);
    const path = decodeURIComponent(cdn ? cdn[1] : url.pathname.slice(1));
    const file = this.files.get(path);
    const record: HubRequest = { kind: cdn ? 'cdn' : 'hub', path, range: req.headers.range, status: 404, at: Date.now() };
    this.requests.push(record);
    res.on('close', () => (record.endedAt = Date.now()));
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain', 'x-error-code': 'EntryNotFound' }).end('Entry not found');
      return;
    }
    const behaviour = this.behaviours.get(path) as Behaviour;
    if (!cdn && file.lfs) {
      const published = behaviour.wrongShaOnce ?? sha256(file.data);
      behaviour.wrongShaOnce = undefined;
      record.status = 302;
      res.writeHead(302, {
        location: `/cdn/${encodeURIComponent(path)}?X-Amz-Signature=stand-in`,
        'x-linked-etag': `"${published}"`,
        'x-linked-size': String(file.data.length),
        etag: `"${published}"`,
        'x-repo-commit': '0'.repeat(40),
        'content-length': '0',
      });
      res.end();
      return;
    }
    // the CDN (S3-style ETag: an MD5, never taken for a SHA-256), or a small file straight from the hub
    const etag = file.lfs ? `"${createHash('md5').update(file.data).digest('hex')}"` : `"${createHash('sha1').update(file.data).digest('hex')}"`;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (range) {
      start = Number(range[1]);
      if (start >= file.data.length) {
        record.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${file.data.length}` }).end();
        return;
      }
      record.status = 206;
      res.writeHead(206, { 'content-length': file.data.length - start, 'content-range': `bytes ${start}-${file.data.length - 1}/${file.data.length}`, 'accept-ranges': 'bytes', etag });
    } else {
      record.status = 200;
      res.writeHead(200, { 'content-length': file.data.length, 'accept-ranges': 'bytes', etag });
    }
    this.stream(res, file.data, start, behaviour, record);
  }

  private stream(res: ServerResponse, data: Buffer, start: number, behaviour: Behaviour, record: HubRequest): void {
    const tickMs = 50;
    const chunk = behaviour.bytesPerSecond > 0 ? Math.max(1024, Math.round((behaviour.bytesPerSecond * tickMs) / 1000)) : 256 * 1024;
    let at = start;
    record.sentBytes = 0;
    const next = () => {
      if (res.destroyed) return;
      // finished first: a drop asked for later is for the next transfer
      if (at >= data.length) return void res.end();
      if (behaviour.dropOnceAt !== undefined && at >= behaviour.dropOnceAt) {
        behaviour.dropOnceAt = undefined;
        // the bytes sent so far arrive, then the connection dies
        setTimeout(() => res.destroy(), 50);
        return;
      }
      let end = Math.min(data.length, at + chunk);
      if (behaviour.dropOnceAt !== undefined && at < behaviour.dropOnceAt && end > behaviour.dropOnceAt) end = behaviour.dropOnceAt;
      const piece = data.subarray(at, end);
      at = end;
      record.sentBytes = (record.sentBytes ?? 0) + piece.length;
      res.write(piece, () => (behaviour.bytesPerSecond > 0 ? setTimeout(next, tickMs) : setImmediate(next)));
    };
    next();
  }
}
