import type { JobProgress } from '@app/contracts';

/** How long a later progress change may wait, so that several within a short job become one write. */
export const PROGRESS_SETTLE_MS = 100;

/**
 * Progress on its way to Redis (BullMQ's job progress and the job's `active` events). The job's
 * first progress goes out at once (readers learn that it started); every later change waits up to
 * PROGRESS_SETTLE_MS and only the newest of that window is written. A job of a few milliseconds then
 * costs one progress write instead of one per stage (each is a Redis script, a queue event and work
 * for every API's event readers), while a long stage still shows within 0.1 s. What is pending when
 * the job ends is dropped: the job's end says more.
 */
export class SettlingProgress {
  private pending?: JobProgress;
  private timer?: NodeJS.Timeout;
  private started = false;
  private stopped = false;

  constructor(
    private readonly write: (progress: JobProgress) => void,
    private readonly settleMs = PROGRESS_SETTLE_MS,
  ) {}

  push(progress: JobProgress): void {
    if (this.stopped) return;
    if (!this.started) {
      this.started = true;
      this.write(progress);
      return;
    }
    this.pending = progress;
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.settleMs);
    this.timer.unref();
  }

  /** The job ended: nothing more is written. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private flush(): void {
    this.timer = undefined;
    const progress = this.pending;
    this.pending = undefined;
    if (progress && !this.stopped) this.write(progress);
  }
}
