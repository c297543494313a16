import Redis from 'ioredis';
import type { JobEndedMessage } from '@app/contracts';

/** How a job ended, as its BullMQ hash records it. */
export type JobEnd = { kind: 'completed'; result: unknown } | { kind: 'failed'; failedReason: string } | { kind: 'cancelled' };

/** Every waiting request's job is read again this often: the backstop for a lost message. */
export const RECHECK_EVERY_MS = 2_000;

export interface JobEndSources {
  /** the job's BullMQ hash (Queue.toKey) */
  jobKey(jobId: string): string;
  /** the mark DELETE /jobs/:id leaves (RedisKeys.cancelled) */
  cancelMarkKey(jobId: string): string;
  /** worker → API: the job-ended channel; API → workers: the cancel channel (a removed job ends no other way) */
  channels(): { jobEnded: string; cancel: string };
}

type Settle = (end: JobEnd | undefined) => void;

/**
 * Sync requests waiting for their job's end. A worker publishes it once BullMQ has recorded it, with
 * the result or failure when small (else the job's hash is read here: one HMGET); an API process no longer wakes for
 * every event of every job (BullMQ's QueueEvents: ~6 XREADs per job, each replica reading all jobs).
 * A message can be lost (the subscriber reconnects, a worker dies between its end and the publish):
 * every waiting job is read again after a reconnect and every RECHECK_EVERY_MS. A job removed while
 * it waited (DELETE of a queued job) ends as cancelled when its cancel mark is there.
 */
export class JobEndWaiters {
  private readonly waiters = new Map<string, Set<Settle>>();
  private recheckTimer?: NodeJS.Timeout;

  constructor(
    private readonly subscriber: Redis,
    private readonly redis: Redis,
    private readonly sources: JobEndSources,
    private readonly warn: (message: string) => void,
  ) {}

  /** Subscribes once at boot; not awaited: with Redis down the API must still start (ioredis subscribes once it connects). */
  listen(): void {
    const { jobEnded, cancel } = this.sources.channels();
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === cancel && this.waiters.has(message)) void this.check([message]);
      if (channel === jobEnded) this.ended(message);
    });
    // messages published while the subscriber was away are lost: read every waiting job again
    this.subscriber.on('ready', () => void this.check([...this.waiters.keys()]));
    this.subscriber.subscribe(jobEnded, cancel).catch(() => undefined);
  }

  /** The job's end, or undefined when timeoutMs passed first (or the API is closing). */
  wait(jobId: string, timeoutMs: number): Promise<JobEnd | undefined> {
    return new Promise((resolve) => {
      const settle: Settle = (end) => {
        clearTimeout(timer);
        this.forget(jobId, settle);
        resolve(end);
      };
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      const waiting = this.waiters.get(jobId) ?? new Set<Settle>();
      waiting.add(settle);
      this.waiters.set(jobId, waiting);
      this.recheckTimer ??= setInterval(() => void this.check([...this.waiters.keys()]), RECHECK_EVERY_MS);
      // it may have ended before this waiter was listed
      void this.check([jobId]);
    });
  }

  /** Every waiter gets undefined (its request answers 202; the job goes on). */
  close(): void {
    for (const waiting of [...this.waiters.values()]) for (const settle of [...waiting]) settle(undefined);
  }

  get waiting(): number {
    return this.waiters.size;
  }

  /** A worker's job-ended message: the end it carries settles the job's waiters; without one, the job is read. */
  private ended(message: string): void {
    let parsed: JobEndedMessage;
    try {
      parsed = JSON.parse(message) as JobEndedMessage;
    } catch {
      return;
    }
    const waiting = typeof parsed?.id === 'string' ? this.waiters.get(parsed.id) : undefined;
    if (!waiting) return;
    const end: JobEnd | undefined =
      typeof parsed.failedReason === 'string' ? { kind: 'failed', failedReason: parsed.failedReason } : 'result' in parsed ? { kind: 'completed', result: parsed.result } : undefined;
    if (!end) return void this.check([parsed.id]);
    for (const settle of [...waiting]) settle(end);
  }

  private forget(jobId: string, settle: Settle): void {
    const waiting = this.waiters.get(jobId);
    waiting?.delete(settle);
    if (waiting?.size === 0) this.waiters.delete(jobId);
    if (this.waiters.size === 0 && this.recheckTimer) {
      clearInterval(this.recheckTimer);
      this.recheckTimer = undefined;
    }
  }

  /** Reads the jobs (issued together: one write on an auto-pipelined connection) and settles the ended ones. */
  private async check(jobIds: string[]): Promise<void> {
    await Promise.all(
      jobIds.map(async (jobId) => {
        try {
          const end = await this.endOf(jobId);
          if (end) for (const settle of [...(this.waiters.get(jobId) ?? [])]) settle(end);
        } catch (error) {
          // Redis away: the next recheck (or the reconnect) reads it again
          this.warn(`job ${jobId}: its end not read yet (${(error as Error).message}); reading again in ${RECHECK_EVERY_MS} ms`);
        }
      }),
    );
  }

  private async endOf(jobId: string): Promise<JobEnd | undefined> {
    const [timestamp, finishedOn, returnvalue, failedReason] = await this.redis.hmget(this.sources.jobKey(jobId), 'timestamp', 'finishedOn', 'returnvalue', 'failedReason');
    // gone: removed from the queue by a cancel; without the mark (removed otherwise) the wait goes on to its timeout
    if (timestamp === null) return (await this.redis.exists(this.sources.cancelMarkKey(jobId))) ? { kind: 'cancelled' } : undefined;
    if (finishedOn === null) return undefined;
    if (failedReason !== null) return { kind: 'failed', failedReason };
    return { kind: 'completed', result: returnvalue === null ? null : (JSON.parse(returnvalue) as unknown) };
  }
}
