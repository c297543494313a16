import { createHash, Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { DownloadLock } from './download-lock';
import { sha256FromEtag } from './hub';

/**
 * Progress of one file: bytes on disk so far, the file's size once the server said it, and the
 * file's absolute path (a model of several files calls it for each in turn).
 */
export type DownloadProgressListener = (receivedBytes: number, totalBytes: number | undefined, path: string) => void;

export interface DownloadOptions {
  /** sent as a bearer token (Hugging Face gated or private repos); never to another origin after a redirect */
  authToken?: string;
  /** whole download limit (MODEL_DOWNLOAD_TIMEOUT_S), waiting for another process included */
  timeoutMs: number;
  /** limit for each server to answer with headers (MODEL_DOWNLOAD_CONNECT_TIMEOUT_S); ends when the response starts. Default 20 s */
  connectTimeoutMs?: number;
  /** after the response started, the longest time without a byte (MODEL_DOWNLOAD_STALL_S). Default 60 s */
  stallTimeoutMs?: number;
  /** base of the URLs the model registries build (HF_ENDPOINT); not used by downloadFile itself */
  hfEndpoint?: string;
  /** tries per file (a broken connection resumes with Range). Default 5 */
  maxAttempts?: number;
  /** first wait between tries, doubled each time (capped at 30 s). Default 1000 ms */
  retryDelayMs?: number;
  /** how often a process waiting for another one's download looks again. Default 1000 ms */
  lockPollMs?: number;
  /** called as bytes arrive (at most every 200 ms, and once at 100 %), also while another process downloads */
  onProgress?: DownloadProgressListener;
  /** whether `log` gets a line every 10 % (default true; a progress bar turns it off) */
  logProgress?: boolean;
  log: (message: string) => void;
  /** where a model that cannot be had is reported with its full path (the error body only says MODEL_DIR/…) */
  warn?: (message: string) => void;
  fetchImpl?: typeof fetch;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  /** of the file on disk; undefined when it was there already (not re-read) */
  sha256?: string;
  /** the hub published a SHA-256 (X-Linked-Etag / ETag) and the file matched it */
  sha256Verified: boolean;
  /** 'downloaded' here; 'present' when the file existed or another process finished it */
  outcome: 'downloaded' | 'present';
  /** tries used (1 when nothing broke) */
  attempts: number;
  /** bytes fetched again or resumed: sum over tries of bytes received */
  transferredBytes: number;
  elapsedMs: number;
}

/** What a file's sidecar `<file>.source.json` records (shown by `npm run models -- list`). */
export interface ModelSourceRecord {
  url: string;
  bytes: number;
  sha256: string;
  /** true when the hub published the checksum and the file matched it */
  sha256_verified: boolean;
  downloaded_at: string;
}

export const SOURCE_SIDECAR_SUFFIX = '.source.json';
export const PARTIAL_SUFFIX = '.partial';
export const LOCK_SUFFIX = '.lock';

/** A failure that another try would not fix (404, integrity, time limit). */
class FatalDownloadError extends Error {}

/** Integrity failures: the download is deleted. */
export class DownloadIntegrityError extends FatalDownloadError {}

const DEFAULT_CONNECT_MS = 20_000;
const DEFAULT_STALL_MS = 60_000;
const MAX_REDIRECTS = 5;
const PROGRESS_EVERY_MS = 200;

const inFlight = new Map<string, { promise: Promise<DownloadResult>; listeners: Set<DownloadProgressListener> }>();

/**
 * Downloads url to path. The connect timeout only covers the wait for headers; after that a stall
 * timeout (no byte for stallTimeoutMs) and the overall limit apply. Bytes go to `<path>.partial`,
 * which survives a broken connection and is resumed with `Range` (up to maxAttempts tries, with
 * backoff; a server that ignores Range restarts from 0). The size and, when the hub publishes it
 * (X-Linked-Etag / ETag), the SHA-256 are checked before the file is renamed to its final name; a
 * mismatch deletes it. One download per file: calls in this process share one promise, processes
 * sharing the directory coordinate with `<path>.lock`. Throws an Error saying why.
 */
export function downloadFile(url: string, path: string, options: DownloadOptions): Promise<DownloadResult> {
  const key = resolve(path);
  const running = inFlight.get(key);
  if (running) {
    if (options.onProgress) running.listeners.add(options.onProgress);
    options.log(`${basename(key)}: already downloading in this process; waiting for it`);
    return running.promise;
  }
  const listeners = new Set<DownloadProgressListener>();
  if (options.onProgress) listeners.add(options.onProgress);
  const notify = (received: number, total: number | undefined) => {
    for (const listener of listeners) {
      try {
        listener(received, total, key);
      } catch {
        // a listener's failure is not the download's
      }
    }
  };
  const promise = downloadOnce(url, key, options, notify).finally(() => inFlight.delete(key));
  inFlight.set(key, { promise, listeners });
  return promise;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

type Notify = (receivedBytes: number, totalBytes: number | undefined) => void;

async function downloadOnce(url: string, path: string, options: DownloadOptions, notify: Notify): Promise<DownloadResult> {
  const started = Date.now();
  const label = basename(path);
  const present = (): DownloadResult => {
    const bytes = fileSize(path);
    notify(bytes, bytes);
    return { path, bytes, sha256Verified: false, outcome: 'present', attempts: 0, transferredBytes: 0, elapsedMs: Date.now() - started };
  };
  if (existsSync(path)) return present();
  mkdirSync(dirname(path), { recursive: true });
  const stallMs = options.stallTimeoutMs ?? DEFAULT_STALL_MS;
  const lock = await DownloadLock.acquire(path, {
    staleMs: 2 * stallMs,
    pollMs: options.lockPollMs ?? 1000,
    deadline: started + options.timeoutMs,
    limitLabel: seconds(options.timeoutMs),
    url,
    log: options.log,
    onWaitProgress: notify,
  });
  if (lock === 'present') {
    options.log(`${label}: downloaded by another process`);
    return present();
  }
  try {
    return await new Transfer(url, path, options, notify, lock, started).run();
  } finally {
    lock.release();
  }
}

interface Expected {
  sha256?: string;
  /** where sha256 came from, for messages */
  shaSource?: string;
  /** the size the hub publishes (X-Linked-Size) */
  size?: number;
}

/** One file's download: tries, resume, verification, rename. */
class Transfer {
  private readonly label: string;
  private readonly partial: string;
  private readonly overall: AbortSignal;
  private readonly expected: Expected = {};
  /** SHA-256 of the partial file's first `hashedBytes` bytes */
  private hash: Hash = createHash('sha256');
  private hashedBytes = 0;
  /** the size the transfer says the file has (Content-Range total / Content-Length) */
  private transferTotal?: number;
  private responded = false;
  private transferred = 0;
  private lastNotify = 0;
  private nextLogFraction = 0.1;
  private lockLost = false;
  private attemptController?: AbortController;

  constructor(
    private readonly url: string,
    private readonly path: string,
    private readonly options: DownloadOptions,
    private readonly notify: Notify,
    private readonly lock: DownloadLock,
    private readonly started: number,
  ) {
    this.label = basename(path);
    this.partial = `${path}${PARTIAL_SUFFIX}`;
    this.overall = AbortSignal.timeout(Math.max(1, options.timeoutMs - (Date.now() - started)));
  }

  async run(): Promise<DownloadResult> {
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? 5);
    const stallMs = this.options.stallTimeoutMs ?? DEFAULT_STALL_MS;
    this.lock.keepAlive(Math.max(100, Math.min(5000, stallMs / 4)), () => {
      this.lockLost = true;
      this.attemptController?.abort();
    });
    const resumeFrom = fileSize(this.partial);
    this.options.log(`downloading ${this.url} → ${this.path}${resumeFrom > 0 ? ` (resuming at byte ${resumeFrom})` : ''}`);
    let attempt = 0;
    let lastError: Error | undefined;
    for (attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) {
        const delay = Math.min(30_000, (this.options.retryDelayMs ?? 1000) * 2 ** (attempt - 2));
        await this.sleep(delay);
      }
      try {
        await this.attempt();
        lastError = undefined;
        break;
      } catch (error) {
        const failure = this.explain(error);
        if (failure instanceof FatalDownloadError) throw failure;
        lastError = failure;
        // nothing answered at all (host offline, DNS, refused): failing now beats 5 slow tries
        if (!this.responded) throw failure;
        const onDisk = fileSize(this.partial);
        this.options.log(
          `${this.label}: try ${attempt}/${maxAttempts} failed (${failure.message})` +
            (attempt < maxAttempts ? `; resuming at byte ${onDisk}` : ''),
        );
      }
    }
    if (lastError) {
      const kept = fileSize(this.partial);
      throw new Error(
        `${maxAttempts} tries failed, the last: ${lastError.message}` + (kept > 0 ? ` (${kept} bytes kept in ${basename(this.partial)}; the next try resumes)` : ''),
      );
    }
    const result = await this.verifyAndPlace(Math.min(attempt, maxAttempts));
    return result;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.overall.aborted) return reject(this.overallError());
      const timer = setTimeout(() => {
        this.overall.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(this.overallError());
      };
      this.overall.addEventListener('abort', onAbort, { once: true });
    });
  }

  private overallError(): FatalDownloadError {
    return new FatalDownloadError(
      `not finished within the ${seconds(this.options.timeoutMs)} limit (MODEL_DOWNLOAD_TIMEOUT_S); ${fileSize(this.partial)} bytes kept in ${basename(this.partial)}`,
    );
  }

  /** Turns whatever a try threw into a message: fatal, or worth another try. */
  private explain(error: unknown): Error {
    if (this.lockLost) return new FatalDownloadError(`another process took over the download lock ${basename(this.lock.path)}`);
    if (this.overall.aborted) return this.overallError();
    if (error instanceof FatalDownloadError) return error;
    const reason = this.attemptController?.signal.reason;
    if (reason instanceof StallError || reason instanceof ConnectTimeoutError) return reason;
    if (error instanceof RetryableError) return error;
    // the disk, not the network (no space, no permission): another try would fail the same way
    const errno = error as NodeJS.ErrnoException;
    if (errno?.syscall && errno.path) return new FatalDownloadError(errno.message);
    const cause = (error as Error)?.cause as { code?: string; message?: string } | undefined;
    const detail = cause ? (cause.message ?? String(cause)) : ((error as Error)?.message ?? String(error));
    if (!this.responded) return new Error(`network: ${detail}`);
    return new Error(`connection lost at byte ${fileSize(this.partial)}${this.transferTotal ? ` of ${this.transferTotal}` : ''} (${detail})`);
  }

  /** One request (following redirects) and its body appended to the partial file. */
  private async attempt(): Promise<void> {
    const controller = new AbortController();
    this.attemptController = controller;
    const signal = AbortSignal.any([this.overall, controller.signal]);
    let offset = fileSize(this.partial);
    if (this.expected.size !== undefined && offset > this.expected.size) {
      this.options.log(`${this.label}: ${basename(this.partial)} is larger than the file (${offset} > ${this.expected.size} bytes); starting over`);
      this.restart();
      offset = 0;
    }
    const response = await this.request(offset, controller, signal);
    const status = response.status;
    if (status === 416) {
      await response.body?.cancel().catch(() => undefined);
      const total = parseContentRange(response.headers.get('content-range'))?.total ?? this.expected.size;
      if (total !== undefined && offset === total) {
        this.transferTotal = total;
        return; // the partial file is complete already: verified next
      }
      this.restart();
      throw new RetryableError(`HTTP 416 for a resume at byte ${offset}${total !== undefined ? ` of ${total}` : ''}; starting over`);
    }
    if (status === 206) {
      const range = parseContentRange(response.headers.get('content-range'));
      if (!range || range.start !== offset) {
        await response.body?.cancel().catch(() => undefined);
        this.restart();
        throw new RetryableError(`the server resumed at ${range ? `byte ${range.start}` : 'an unknown byte'}, not ${offset}; starting over`);
      }
      this.transferTotal = range.total;
    } else if (status === 200) {
      if (offset > 0) {
        this.options.log(`${this.label}: the server ignored Range (200, not 206); starting over from byte 0`);
        this.restart();
        offset = 0;
      }
      const length = response.headers.get('content-length');
      this.transferTotal = length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
    } else {
      await response.body?.cancel().catch(() => undefined);
      const message = `HTTP ${status}`;
      // overloaded or briefly away: another try may work; anything else (404, 401, …) will not
      if (status >= 500 || status === 429 || status === 408) throw new RetryableError(message);
      throw new FatalDownloadError(message);
    }
    if (this.expected.size !== undefined && this.transferTotal !== undefined && this.transferTotal !== this.expected.size) {
      await response.body?.cancel().catch(() => undefined);
      this.discard();
      throw new DownloadIntegrityError(
        `size mismatch for ${this.label}: the hub publishes ${this.expected.size} bytes (X-Linked-Size), the server sends ${this.transferTotal}; the download was deleted`,
      );
    }
    const total = this.expected.size ?? this.transferTotal;
    this.lock.setTotal(total);
    if (!response.body) throw new RetryableError('empty response');
    await this.ensureHashed(offset);
    await this.receive(response.body, offset, total, controller);
    const onDisk = fileSize(this.partial);
    if (total !== undefined && onDisk < total) {
      throw new RetryableError(`connection closed at byte ${onDisk} of ${total}`);
    }
  }

  /** GET with Range, following redirects by hand: the hub's headers (X-Linked-*) are on the 302. */
  private async request(offset: number, controller: AbortController, signal: AbortSignal): Promise<Response> {
    const fetchImpl = this.options.fetchImpl ?? fetch;
    const connectMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_MS;
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (this.options.authToken) headers.authorization = `Bearer ${this.options.authToken}`;
    if (offset > 0) headers.range = `bytes=${offset}-`;
    let current = this.url;
    for (let hop = 0; ; hop++) {
      const timer = setTimeout(() => controller.abort(new ConnectTimeoutError(`no response from ${new URL(current).host} within ${seconds(connectMs)} (MODEL_DOWNLOAD_CONNECT_TIMEOUT_S)`)), connectMs);
      let response: Response;
      try {
        response = await fetchImpl(current, { headers, signal, redirect: 'manual' });
      } finally {
        clearTimeout(timer);
      }
      this.responded = true;
      this.readHubHeaders(response.headers, hop === 0);
      if (![301, 302, 303, 307, 308].includes(response.status)) return response;
      await response.body?.cancel().catch(() => undefined);
      const location = response.headers.get('location');
      if (!location) throw new FatalDownloadError(`HTTP ${response.status} without a Location`);
      if (hop >= MAX_REDIRECTS) throw new FatalDownloadError(`more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, current);
      // the token is for the hub, not for its CDN (nor anywhere else a redirect points)
      if (next.origin !== new URL(current).origin) delete headers.authorization;
      current = next.href;
    }
  }

  /** X-Linked-Size / X-Linked-Etag (LFS files on HF, on the redirect), or a SHA-256 ETag from the hub itself. */
  private readHubHeaders(headers: Headers, fromHub: boolean): void {
    const linkedSize = headers.get('x-linked-size');
    if (linkedSize && /^\d+$/.test(linkedSize.trim()) && this.expected.size === undefined) this.expected.size = Number(linkedSize.trim());
    if (this.expected.sha256) return;
    const linked = sha256FromEtag(headers.get('x-linked-etag'));
    if (linked) {
      this.expected.sha256 = linked;
      this.expected.shaSource = 'X-Linked-Etag';
      return;
    }
    // a CDN's own ETag is an MD5 or similar: only the first (hub) response's counts, and only as 64 hex
    const etag = fromHub ? sha256FromEtag(headers.get('etag')) : undefined;
    if (etag) {
      this.expected.sha256 = etag;
      this.expected.shaSource = 'ETag';
    }
  }

  /** Forget the partial file: the next bytes start at 0. */
  private restart(): void {
    rmSync(this.partial, { force: true });
    this.hash = createHash('sha256');
    this.hashedBytes = 0;
  }

  private discard(): void {
    rmSync(this.partial, { force: true });
  }

  /** Brings the running hash up to the partial file's first `offset` bytes (after a resume in a new process). */
  private async ensureHashed(offset: number): Promise<void> {
    if (this.hashedBytes === offset) return;
    this.hash = createHash('sha256');
    this.hashedBytes = 0;
    if (offset === 0) return;
    // bytes beyond offset (a write cut short) are dropped
    if (fileSize(this.partial) > offset) truncateSync(this.partial, offset);
    for await (const chunk of createReadStream(this.partial, { start: 0, end: offset - 1 })) {
      this.hash.update(chunk as Buffer);
      this.hashedBytes += (chunk as Buffer).length;
    }
  }

  private async receive(body: ReadableStream<Uint8Array>, offset: number, total: number | undefined, controller: AbortController): Promise<void> {
    const stallMs = this.options.stallTimeoutMs ?? DEFAULT_STALL_MS;
    let received = offset;
    let stallTimer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(
        () => controller.abort(new StallError(`stalled: no data for ${seconds(stallMs)} (MODEL_DOWNLOAD_STALL_S) at byte ${received}${total ? ` of ${total}` : ''}`)),
        stallMs,
      );
    };
    arm();
    // a plain read loop rather than pipeline(): when the connection breaks, every byte already
    // received still reaches the disk (the file is ended, not destroyed), so the resume starts there
    const file = createWriteStream(this.partial, { flags: offset > 0 ? 'a' : 'w' });
    let fileError: Error | undefined;
    file.on('error', (error) => (fileError = error));
    const reader = body.getReader();
    let failure: unknown;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (fileError) throw fileError;
        arm();
        const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
        if (total !== undefined && received + chunk.length > total) {
          throw new DownloadIntegrityError(`size mismatch for ${this.label}: the server sent more than ${total} bytes; the download was deleted`);
        }
        received += chunk.length;
        this.transferred += chunk.length;
        this.hash.update(chunk);
        this.hashedBytes += chunk.length;
        this.progress(received, total);
        if (!file.write(chunk)) await waitForDrain(file);
      }
    } catch (error) {
      failure = error;
      reader.cancel().catch(() => undefined);
    } finally {
      clearTimeout(stallTimer);
    }
    await new Promise<void>((resolve) => {
      if (file.destroyed) return resolve();
      file.end(() => resolve());
      file.once('error', () => resolve());
    });
    if (failure instanceof DownloadIntegrityError) {
      this.discard();
      throw failure;
    }
    if (fileError) throw fileError;
    if (failure !== undefined) throw failure;
    this.progress(received, total, true);
  }

  private progress(received: number, total: number | undefined, final = false): void {
    const now = Date.now();
    if (final || now - this.lastNotify >= PROGRESS_EVERY_MS) {
      this.lastNotify = now;
      this.notify(received, total);
    }
    if (this.options.logProgress === false || !total) return;
    if (received / total >= this.nextLogFraction) {
      this.options.log(`${this.label}: ${Math.floor((received / total) * 100)}% of ${megabytes(total)} (${seconds(now - this.started)})`);
      while (received / total >= this.nextLogFraction) this.nextLogFraction += 0.1;
    }
  }

  private async verifyAndPlace(attempts: number): Promise<DownloadResult> {
    const bytes = fileSize(this.partial);
    if (this.expected.size !== undefined && bytes !== this.expected.size) {
      this.discard();
      throw new DownloadIntegrityError(`size mismatch for ${this.label}: expected ${this.expected.size} bytes (X-Linked-Size), got ${bytes}; the download was deleted`);
    }
    await this.ensureHashed(bytes);
    const sha256 = this.hash.digest('hex');
    if (this.expected.sha256 && sha256 !== this.expected.sha256) {
      this.discard();
      throw new DownloadIntegrityError(
        `SHA-256 mismatch for ${this.label}: the hub publishes ${this.expected.sha256} (${this.expected.shaSource}), the download has ${sha256}; the file was deleted`,
      );
    }
    if (this.lockLost || !this.lock.owned()) throw new FatalDownloadError(`another process took over the download lock ${basename(this.lock.path)}`);
    renameSync(this.partial, this.path);
    const record: ModelSourceRecord = {
      url: this.url,
      bytes,
      sha256,
      sha256_verified: this.expected.sha256 !== undefined,
      downloaded_at: new Date().toISOString(),
    };
    writeSourceRecord(this.path, record);
    const elapsedMs = Date.now() - this.started;
    this.notify(bytes, bytes);
    this.options.log(
      `downloaded ${this.label} (${megabytes(bytes)} in ${seconds(elapsedMs)}, ${attempts} ${attempts === 1 ? 'try' : 'tries'}; ` +
        `sha256 ${sha256}${record.sha256_verified ? ' verified' : ', none published to check'})`,
    );
    return { path: this.path, bytes, sha256, sha256Verified: record.sha256_verified, outcome: 'downloaded', attempts, transferredBytes: this.transferred, elapsedMs };
  }
}

/** Resolves when the file stream can take more, or when it failed (the loop then sees the error). */
function waitForDrain(file: import('node:fs').WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      file.off('drain', done);
      file.off('error', done);
      file.off('close', done);
      resolve();
    };
    file.on('drain', done);
    file.on('error', done);
    file.on('close', done);
  });
}

class RetryableError extends Error {}
class StallError extends RetryableError {}
class ConnectTimeoutError extends RetryableError {}

function parseContentRange(value: string | null): { start: number; end?: number; total?: number } | undefined {
  if (!value) return undefined;
  const full = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(value.trim());
  if (full) return { start: Number(full[1]), end: Number(full[2]), total: full[3] === '*' ? undefined : Number(full[3]) };
  const unsatisfied = /^bytes\s+\*\/(\d+)$/i.exec(value.trim());
  if (unsatisfied) return { start: -1, total: Number(unsatisfied[1]) };
  return undefined;
}

/** Writes `<file>.source.json` (atomically) beside a downloaded file. */
function writeSourceRecord(path: string, record: ModelSourceRecord): void {
  const sidecar = `${path}${SOURCE_SIDECAR_SUFFIX}`;
  const temp = `${sidecar}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(temp, sidecar);
  } catch {
    rmSync(temp, { force: true });
  }
}
