import Redis from 'ioredis';
import {
  decodeJobError,
  ErrorCode,
  JobListBody,
  JobName,
  JobProgress,
  JobSummary,
  PublicJobStatus,
  RedisKeys,
  TranscribeJobData,
} from '@app/contracts';
import { ANONYMOUS_OWNER } from '../auth/credentials';
import { encodeCursor, IndexEntry, JobIndex } from './job-index';
import type { JobListQuery } from './job-list-query';

/** A listing reads at most this many index entries (a status filter that matches little stops here, with a cursor to go on). */
export const MAX_SCANNED_PER_PAGE = 1_000;
const BATCH = 100;

/** The job hash fields a summary needs (never the audio; the result only for its duration and language). */
const FIELDS = ['name', 'data', 'progress', 'processedOn', 'finishedOn', 'failedReason', 'returnvalue'] as const;
type Fields = Record<(typeof FIELDS)[number], string | null>;

/** What the listing needs of the queue: where a job's hash is, and the state of an unfinished one. */
export interface ListedQueue {
  toKey(type: string): string;
  getJobState(jobId: string): Promise<string>;
}

/**
 * GET /jobs: one index (a key's own, or every job's for the admin token) read newest first, each
 * job's summary from its BullMQ hash in one pipelined round trip per batch (see summaries). A job
 * removed by DELETE before it ran is listed from its cancel mark; ids whose job expired are dropped
 * from the index.
 */
export class JobLister {
  constructor(
    private readonly redis: Redis,
    private readonly queue: ListedQueue,
    private readonly index: JobIndex,
  ) {}

  /** `owner` undefined: every job (admin); otherwise that owner's, and a job of another owner never shows. */
  async list(owner: string | undefined, query: JobListQuery): Promise<JobListBody> {
    const key = JobIndex.keyFor(owner);
    const jobs: JobSummary[] = [];
    let last = query.after;
    let scanned = 0;
    let exhausted = false;
    while (jobs.length < query.limit && scanned < MAX_SCANNED_PER_PAGE) {
      const entries = await this.index.older(key, last, Math.min(BATCH, MAX_SCANNED_PER_PAGE - scanned));
      if (entries.length === 0) {
        exhausted = true;
        break;
      }
      const summaries = await this.summaries(entries, owner);
      const gone: string[] = [];
      for (const [i, entry] of entries.entries()) {
        last = entry;
        scanned += 1;
        const summary = summaries[i];
        if (summary === 'gone') gone.push(entry.id);
        else if (summary && (!query.status || summary.status === query.status)) jobs.push(summary);
        if (jobs.length === query.limit) break;
      }
      await this.index.forget(key, gone).catch(() => undefined);
    }
    // a full page may have been the last one: look one entry further before offering a cursor
    if (!exhausted && last) exhausted = (await this.index.older(key, last, 1)).length === 0;
    return { jobs, ...(!exhausted && last ? { next_cursor: encodeCursor(last) } : {}) };
  }

  /**
   * Per entry its summary, 'gone' when neither the job nor a cancel mark is left, undefined when it may not be shown.
   * The job hashes come in one pipeline: BullMQ keeps a queue's keys in one slot (its scripts span
   * them; a cluster's QUEUE_PREFIX is hash-tagged), so a Redis Cluster accepts it too. The cancel
   * marks are spread over the slots: only the jobs whose hash is gone need theirs, one GET each,
   * sent together (one more round trip, and only for a batch with such jobs).
   */
  private async summaries(entries: readonly IndexEntry[], owner: string | undefined): Promise<(JobSummary | 'gone' | undefined)[]> {
    const batch = this.redis.pipeline();
    for (const { id } of entries) batch.hmget(this.queue.toKey(id), ...FIELDS);
    const replies = (await batch.exec()) ?? [];
    const failure = replies.find(([error]) => error)?.[0];
    if (failure) throw failure;
    if (replies.length !== entries.length) throw new Error('no reply from Redis');
    const fields = replies.map(([, values]) => Object.fromEntries(FIELDS.map((name, at) => [name, (values as (string | null)[])[at]])) as Fields);
    const cancelMarks = await Promise.all(entries.map(({ id }, i) => (fields[i].name === null ? this.redis.get(RedisKeys.cancelled(id)) : null)));
    // unfinished jobs each ask BullMQ for their state: in parallel, not one round trip after another
    return Promise.all(entries.map((entry, i) => this.summary(entry, fields[i], cancelMarks[i], owner)));
  }

  private async summary(entry: IndexEntry, fields: Fields, cancelMark: string | null, owner: string | undefined): Promise<JobSummary | 'gone' | undefined> {
    const created_at = new Date(entry.at).toISOString();
    if (fields.name === null) {
      // removed from the queue by DELETE before a worker took it: only its mark (naming its owner) is left
      if (cancelMark === null) return 'gone';
      if (owner !== undefined && cancelMark !== owner) return undefined;
      return { job_id: entry.id, status: 'cancelled', stage: 'queued', progress: 0, created_at, error: { code: ErrorCode.JobCancelled, message: 'job was cancelled' } };
    }
    if (fields.name !== JobName.Transcribe) return undefined;
    const data = parseJson<Partial<TranscribeJobData>>(fields.data) ?? {};
    if (owner !== undefined && (data.owner ?? ANONYMOUS_OWNER) !== owner) return undefined;
    const progress = parseJson<Partial<JobProgress>>(fields.progress);
    const summary: JobSummary = {
      job_id: entry.id,
      status: 'queued',
      stage: progress?.stage ?? 'queued',
      progress: typeof progress?.percent === 'number' ? progress.percent : 0,
      created_at,
      ...(fields.processedOn ? { started_at: isoTime(fields.processedOn) } : {}),
      ...(data.fileName ? { file_name: data.fileName } : {}),
    };
    if (fields.finishedOn) {
      summary.finished_at = isoTime(fields.finishedOn);
      if (fields.failedReason) {
        const error = decodeJobError(fields.failedReason);
        return { ...summary, status: error.code === ErrorCode.JobCancelled ? 'cancelled' : 'failed', error };
      }
      const result = parseJson<{ duration?: number; language?: string }>(fields.returnvalue);
      return {
        ...summary,
        status: 'completed',
        stage: 'done',
        progress: 100,
        ...(typeof result?.duration === 'number' ? { duration: result.duration } : {}),
        ...(typeof result?.language === 'string' ? { language: result.language } : {}),
      };
    }
    // not finished: BullMQ's state tells a running job from one waiting (again, after its worker died)
    const state = await this.queue.getJobState(entry.id);
    if (state === 'unknown') return 'gone';
    return { ...summary, status: stateStatus(state) };
  }
}

function stateStatus(state: string): PublicJobStatus {
  if (state === 'active') return 'active';
  if (state === 'completed') return 'completed';
  if (state === 'failed') return 'failed';
  return 'queued';
}

function parseJson<T>(text: string | null): T | undefined {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function isoTime(epochMs: string): string {
  return new Date(Number(epochMs)).toISOString();
}
