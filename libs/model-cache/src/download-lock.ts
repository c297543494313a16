import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { basename } from 'node:path';

/** What `<file>.lock` holds: who downloads, since when; its mtime is the last sign of life. */
export interface DownloadLockInfo {
  pid: number;
  host: string;
  /** ms since the epoch */
  startedAt: number;
  /** random: tells this holder's lock from a later one at the same path */
  token: string;
  url?: string;
  /** once the response has started */
  totalBytes?: number;
}

export interface LockWaitOptions {
  /** a lock not refreshed for this long is stale (2 × the stall timeout) */
  staleMs: number;
  /** how often a waiter looks again */
  pollMs: number;
  /** epoch ms after which waiting fails */
  deadline: number;
  /** the limit to name when waiting fails (e.g. "1800 s") */
  limitLabel: string;
  url: string;
  log: (message: string) => void;
  /** another process's progress, read from its partial file (called on every poll) */
  onWaitProgress?: (receivedBytes: number, totalBytes: number | undefined) => void;
}

/** Whether a process with this pid exists on this host (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(lockPath: string): { raw: string; info?: DownloadLockInfo; mtimeMs: number } | undefined {
  try {
    const mtimeMs = statSync(lockPath).mtimeMs;
    const raw = readFileSync(lockPath, 'utf8');
    let info: DownloadLockInfo | undefined;
    try {
      const parsed = JSON.parse(raw) as DownloadLockInfo;
      if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') info = parsed;
    } catch {
      // being written right now, or not ours: judged by its age alone
    }
    return { raw, info, mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Why a lock may be taken over, or undefined while its holder counts as alive. */
export function staleReason(lock: { info?: DownloadLockInfo; mtimeMs: number }, staleMs: number, now = Date.now()): string | undefined {
  const age = now - lock.mtimeMs;
  const holder = lock.info ? `pid ${lock.info.pid} on ${lock.info.host}` : 'unknown holder';
  if (lock.info && lock.info.host === os.hostname() && lock.info.pid !== process.pid && !processAlive(lock.info.pid)) {
    return `${holder} is gone`;
  }
  if (age > staleMs) return `${holder} has not refreshed it for ${Math.round(age / 1000)} s`;
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `<file>.lock`, created with O_EXCL so one process of all those sharing MODEL_DIR downloads a file.
 * The holder refreshes its mtime while it works; a lock whose holder is gone (same host, pid not
 * running) or that was not refreshed for `staleMs` is taken over.
 */
export class DownloadLock {
  private timer?: NodeJS.Timeout;
  private lost = false;

  private constructor(
    readonly path: string,
    private readonly info: DownloadLockInfo,
  ) {}

  /**
   * Takes the lock, or waits while another live process holds it. Resolves 'present' when the final
   * file appeared meanwhile (the other process finished), else the held lock.
   */
  static async acquire(finalPath: string, options: LockWaitOptions): Promise<DownloadLock | 'present'> {
    const lockPath = `${finalPath}.lock`;
    const partialPath = `${finalPath}.partial`;
    const label = basename(finalPath);
    let announced = '';
    for (;;) {
      if (existsSync(finalPath)) return 'present';
      const info: DownloadLockInfo = { pid: process.pid, host: os.hostname(), startedAt: Date.now(), token: randomBytes(12).toString('hex'), url: options.url };
      try {
        const fd = openSync(lockPath, 'wx');
        try {
          writeSync(fd, JSON.stringify(info));
        } finally {
          closeSync(fd);
        }
        // finished between our first look and the lock: nothing to do
        if (existsSync(finalPath)) {
          rmSync(lockPath, { force: true });
          return 'present';
        }
        return new DownloadLock(lockPath, info);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const held = readLock(lockPath);
      if (!held) continue;
      const stale = staleReason(held, options.staleMs);
      if (stale) {
        DownloadLock.takeOver(lockPath, held.raw, `${label}: taking over a stale download lock (${stale})`, options.log);
        continue;
      }
      const holder = held.info ? `pid ${held.info.pid} on ${held.info.host}` : 'another process';
      if (announced !== holder) {
        options.log(`${label}: ${holder} is downloading it into this MODEL_DIR; waiting for it`);
        announced = holder;
      }
      if (options.onWaitProgress) {
        let received = 0;
        try {
          received = statSync(partialPath).size;
        } catch {
          // not started yet
        }
        options.onWaitProgress(received, held.info?.totalBytes);
      }
      if (Date.now() >= options.deadline) {
        throw new Error(`waited ${options.limitLabel} for ${holder} downloading ${label} (lock ${basename(lockPath)}); it did not finish`);
      }
      await sleep(Math.min(options.pollMs, Math.max(1, options.deadline - Date.now())));
    }
  }

  /**
   * Moves the stale lock aside (rename: only one taker wins), then checks it moved the lock it judged:
   * one just created by a faster taker goes back (link: never over a newer one).
   */
  private static takeOver(lockPath: string, judgedRaw: string, message: string, log: (m: string) => void): void {
    const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(lockPath, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    let moved = '';
    try {
      moved = readFileSync(aside, 'utf8');
    } catch {
      // unreadable: treated as the one judged
      moved = judgedRaw;
    }
    if (moved === judgedRaw) {
      log(message);
    } else {
      try {
        linkSync(aside, lockPath);
      } catch {
        // a newer lock is there already: it wins
      }
    }
    rmSync(aside, { force: true });
  }

  /** Refreshes the lock's mtime every refreshMs; onLost runs once if another process took it over. */
  keepAlive(refreshMs: number, onLost: () => void): void {
    this.timer = setInterval(() => {
      if (!this.owned()) {
        this.lost = true;
        this.stopRefreshing();
        onLost();
        return;
      }
      const now = new Date();
      try {
        utimesSync(this.path, now, now);
      } catch {
        // checked again on the next tick
      }
    }, refreshMs);
    this.timer.unref();
  }

  /** Records the transfer's size so waiting processes can show progress. */
  setTotal(totalBytes: number | undefined): void {
    if (totalBytes === undefined || this.info.totalBytes === totalBytes || !this.owned()) return;
    this.info.totalBytes = totalBytes;
    try {
      writeFileSync(this.path, JSON.stringify(this.info));
    } catch {
      // progress only
    }
  }

  get wasLost(): boolean {
    return this.lost;
  }

  /** Whether the file at the lock path is still this holder's. */
  owned(): boolean {
    const held = readLock(this.path);
    return held?.info?.token === this.info.token;
  }

  private stopRefreshing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  release(): void {
    this.stopRefreshing();
    if (this.owned()) rmSync(this.path, { force: true });
  }
}
