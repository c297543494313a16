import type { JobError } from './errors';
import type { JobStage, ModelDownloadProgress } from './jobs';

/**
 * A job's event channel: what its worker says while it runs, for readers in another process (the
 * API's streaming routes). One Redis Stream per job, so a reader that arrives late (or reconnects
 * with the last id it saw) still gets every event in order; pub/sub would lose what came before.
 */

/** The Redis Stream of one job's events (under the service's `tx:` prefix, as RedisKeys). */
export const jobEventsKey = (jobId: string): string => `tx:events:${jobId}`;

/** Entries kept per job stream (XADD MAXLEN ~): far more segments than a 30-minute chunked job has. */
export const JOB_EVENTS_MAX_LEN = 10_000;
/** TTL while the job runs: a worker that dies mid-job must not leave its stream behind for ever. */
export const JOB_EVENTS_RUNNING_TTL_S = 24 * 3600;

/** The worker's progress: a new stage, or the same stage further on (rate-limited by the worker). */
export interface ActiveEvent {
  type: 'active';
  stage: JobStage;
  /** the job's percent (0..100), as GET /jobs/:id reports it */
  percent: number;
  /** while stage is downloading_model */
  download?: ModelDownloadProgress;
}

/** A stretch of transcript, in order: `index` counts the job's segments from 0 (a rerun of the job repeats the same indices). */
export interface SegmentEvent {
  type: 'segment';
  index: number;
  start: number;
  end: number;
  text: string;
}

/** The job finished: `text` is the whole transcript exactly as the result's `text` (transcriptText). */
export interface CompletedEvent {
  type: 'completed';
  text: string;
  duration: number;
  language: string;
}

/**
 * The job failed or was cancelled (code job_cancelled): the error as the job's status reports it.
 * The worker writes it, or the API when DELETE removes a job no worker has taken.
 */
export interface FailedEvent {
  type: 'failed';
  error: JobError;
}

export type JobEvent = ActiveEvent | SegmentEvent | CompletedEvent | FailedEvent;
export type JobEventType = JobEvent['type'];

/** One event as read back, with its stream id (the resume point: read again "after this id"). */
export interface JobEventEntry {
  id: string;
  event: JobEvent;
}

/** After these no more events come for the job. */
export const isFinalJobEvent = (event: JobEvent): event is CompletedEvent | FailedEvent => event.type === 'completed' || event.type === 'failed';

/** The stream entry's field/value list: the type, for XRANGE readers, and the event as JSON. */
export function encodeJobEvent(event: JobEvent): [string, string, string, string] {
  return ['type', event.type, 'data', JSON.stringify(event)];
}

const EVENT_TYPES: readonly JobEventType[] = ['active', 'segment', 'completed', 'failed'];

/** A stream entry's fields ([k1, v1, k2, v2, …] as XREAD returns them) → the event; undefined for an entry this version does not know. */
export function decodeJobEvent(fields: readonly string[]): JobEvent | undefined {
  const at = fields.indexOf('data');
  if (at < 0 || at % 2 !== 0 || at + 1 >= fields.length) return undefined;
  try {
    const event = JSON.parse(fields[at + 1]) as JobEvent;
    return event && typeof event === 'object' && EVENT_TYPES.includes(event.type) ? event : undefined;
  } catch {
    return undefined;
  }
}

/**
 * GET /jobs/:id/events (Server-Sent Events): what a client receives. `queued` is the job's place in
 * line, recomputed while it waits (no SSE id: it is not replayed, a reconnect gets the current one);
 * the others carry their stream entry's id, so Last-Event-ID resumes after them. Exactly one of
 * completed / failed / cancelled comes last, then the response ends.
 */
export type JobSseEventName = 'queued' | 'active' | 'segment' | 'completed' | 'failed' | 'cancelled';

/** `queued`: 1 = the next job a free worker takes; null when the queue does not say (paused, delayed). */
export interface QueuedSseData {
  position: number | null;
}
