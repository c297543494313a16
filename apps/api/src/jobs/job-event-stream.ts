import { Logger } from '@nestjs/common';
import type { Response } from 'express';
import Redis from 'ioredis';
import { ErrorBody, ErrorCode, isFinalJobEvent, JobEvent, JobEventEntry, JobSseEventName, JobView, QueuedSseData, ServiceError } from '@app/contracts';
import type { Principal } from '../auth/credentials';
import { JobEventsReader, lastJobEvent } from './job-events.reader';

/** How long one XREAD waits; between waits a queued job's place is recomputed (and an ended job without its event noticed). */
const BLOCK_MS = 2_000;
/** While a job waits its place is re-read this often, so a place the line passes through quickly is still seen. */
const QUEUED_BLOCK_MS = 500;
/** A comment this often while nothing else is written, so proxies keep the connection. */
export const SSE_HEARTBEAT_MS = 15_000;
/** The worker writes `completed` just before BullMQ records the result: wait this long for the job view to have it. */
const COMPLETED_VIEW_WAIT_MS = 10_000;
/**
 * The SSE id of a final event taken from the job's status (its stream expired, or never had it).
 * A reconnect with it, or with the id of a stream's final event, gets 204: EventSource stops there.
 */
export const FINAL_EVENT_ID = 'final';

/** What the stream needs of the job service. */
export interface JobStatusSource {
  view(jobId: string, principal: Principal): Promise<JobView>;
  /** a waiting job's place in line (1 = next), null when the queue does not say, undefined once it no longer waits */
  queuePlace(jobId: string): Promise<number | null | undefined>;
}

/** `Last-Event-ID` (or ?last_event_id=): a stream id "<ms>-<seq>", or FINAL_EVENT_ID. */
export function readLastEventId(value: unknown, field: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string' && (value === FINAL_EVENT_ID || /^\d{1,20}-\d{1,20}$/.test(value))) return value;
  throw new ServiceError(ErrorCode.ValidationFailed, `${field} must be the id of an event this stream sent ("<ms>-<seq>" or "${FINAL_EVENT_ID}")`, field);
}

/** Stream ids compare as (ms, seq) pairs. */
function streamIdAtOrBefore(id: string, bound: string): boolean {
  const [ms, seq] = id.split('-').map(BigInt);
  const [boundMs, boundSeq] = bound.split('-').map(BigInt);
  return ms < boundMs || (ms === boundMs && seq <= boundSeq);
}

const sseMessage = (event: JobSseEventName, data: unknown, id?: string): string => `${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

const isEnded = (view: JobView) => view.status === 'completed' || view.status === 'failed' || view.status === 'cancelled';

/**
 * GET /jobs/:id/events: a job's progress as Server-Sent Events, read from its Redis Stream (the
 * worker may run in another process or machine): `queued` {position} while it waits, then the
 * stream's `active` {stage, percent} and `segment` events with their stream ids, then one of
 * `completed` (the job view with its result), `failed` or `cancelled` (the error body), and the end.
 * Last-Event-ID resumes after that id. A client that leaves stops the reading, never the job.
 */
export class JobEventStream {
  private readonly logger = new Logger(JobEventStream.name);
  /** the streams this process has open: ended at shutdown so the HTTP server can close */
  private readonly open = new Set<{ hangUp: () => void; response: Response }>();

  constructor(
    private readonly redis: Redis,
    private readonly jobs: JobStatusSource,
    private readonly heartbeatMs = SSE_HEARTBEAT_MS,
  ) {}

  async stream(jobId: string, principal: Principal, lastEventId: string | undefined, response: Response): Promise<void> {
    // before any header: an unknown job, or another key's, is a plain 404 as on GET /jobs/:id
    await this.jobs.view(jobId, principal);
    if (lastEventId !== undefined && (await this.endedAt(jobId, lastEventId))) {
      response.status(204).end();
      return;
    }
    response.status(200);
    response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    response.setHeader('Cache-Control', 'no-store, no-transform');
    // nginx and similar proxies buffer responses unless told not to
    response.setHeader('X-Accel-Buffering', 'no');
    response.flushHeaders();

    const reader = new JobEventsReader(this.redis, jobId, lastEventId ?? '0');
    let gone = false;
    // the response's close (the request's fires once its body is read, at once for a GET)
    const hangUp = () => {
      gone = true;
      reader.close();
    };
    response.on('close', () => {
      if (!response.writableFinished) hangUp();
    });
    const entry = { hangUp, response };
    this.open.add(entry);
    let lastWriteAt = Date.now();
    const write = (text: string) => {
      if (gone || response.writableEnded) return;
      response.write(text);
      lastWriteAt = Date.now();
    };
    let position: number | null | undefined;
    let waiting = false;
    try {
      // the first read does not wait: what the stream has (a resume, an ended job) goes out at once
      for (let blockMs = 0; !gone; blockMs = waiting ? QUEUED_BLOCK_MS : BLOCK_MS) {
        const entries = await reader.next(blockMs);
        if (gone) break;
        if (entries.length > 0) {
          if (await this.deliverAll(jobId, principal, entries, write)) break;
          continue;
        }
        // nothing new: the job's status says where it waits, or that it ended without an event in the stream
        const view = await this.viewOrGone(jobId, principal);
        if (isEnded(view)) {
          // events written since the read (a worker writes its end just before BullMQ records it) come first
          const late = await reader.next(0);
          if (late.length > 0) {
            if (await this.deliverAll(jobId, principal, late, write)) break;
            continue;
          }
          write(this.finalFromView(view));
          break;
        }
        waiting = view.status === 'queued';
        if (waiting) {
          const place = await this.jobs.queuePlace(jobId);
          if (place !== undefined && place !== position) write(sseMessage('queued', { position: place } satisfies QueuedSseData));
          position = place ?? position;
        }
        // before the next read could take the silence past the heartbeat
        if (Date.now() - lastWriteAt >= this.heartbeatMs - BLOCK_MS) write(': ping\n\n');
      }
    } catch (error) {
      // the client reconnects with its Last-Event-ID and misses nothing
      if (!gone) this.logger.warn(`job ${jobId}: event stream stopped: ${(error as Error).message}`);
    } finally {
      this.open.delete(entry);
      reader.close();
      if (!response.writableEnded) response.end();
    }
  }

  /**
   * Ends every open stream and its connection (the API is shutting down): clients reconnect, to
   * another replica too, with their Last-Event-ID. The connection goes too: the HTTP server's close
   * runs right after this and only drops connections idle by then, so a kept-alive one would hold
   * the process until its keep-alive timeout.
   */
  closeAll(): void {
    for (const { hangUp, response } of [...this.open]) {
      hangUp();
      if (!response.writableEnded) response.end(() => response.socket?.destroy());
    }
  }

  /** True when the stream's final event is at or before `lastEventId`: the client has seen the end. */
  private async endedAt(jobId: string, lastEventId: string): Promise<boolean> {
    if (lastEventId === FINAL_EVENT_ID) return true;
    const last = await lastJobEvent(this.redis, jobId);
    return last !== undefined && isFinalJobEvent(last.event) && streamIdAtOrBefore(last.id, lastEventId);
  }

  /** Writes the entries' messages in order; true once the final one went out. */
  private async deliverAll(jobId: string, principal: Principal, entries: readonly JobEventEntry[], write: (text: string) => void): Promise<boolean> {
    for (const { id, event } of entries) {
      write(await this.message(jobId, principal, id, event));
      if (isFinalJobEvent(event)) return true;
    }
    return false;
  }

  private async message(jobId: string, principal: Principal, id: string, event: JobEvent): Promise<string> {
    switch (event.type) {
      case 'active':
        return sseMessage('active', { stage: event.stage, percent: event.percent, ...(event.download ? { download: event.download } : {}) }, id);
      case 'segment':
        return sseMessage('segment', { index: event.index, start: event.start, end: event.end, text: event.text }, id);
      case 'completed':
        return sseMessage('completed', await this.completedView(jobId, principal), id);
      case 'failed':
        return sseMessage(event.error.code === ErrorCode.JobCancelled ? 'cancelled' : 'failed', { error: event.error } satisfies ErrorBody, id);
    }
  }

  /** The completed job's view with its result; BullMQ records it just after the worker's event, so wait for it a little. */
  private async completedView(jobId: string, principal: Principal): Promise<JobView> {
    const deadline = Date.now() + COMPLETED_VIEW_WAIT_MS;
    for (;;) {
      const view = await this.jobs.view(jobId, principal);
      if (view.status === 'completed' || Date.now() >= deadline) return { ...view, status: 'completed', progress: 100, stage: 'done' };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The final message from the job's status: its stream expired, or the job ended without an event (removed, a worker lost). */
  private finalFromView(view: JobView): string {
    if (view.status === 'completed') return sseMessage('completed', view, FINAL_EVENT_ID);
    const error = view.error ?? { code: view.status === 'cancelled' ? ErrorCode.JobCancelled : ErrorCode.Internal, message: `job ${view.status}` };
    return sseMessage(view.status === 'cancelled' ? 'cancelled' : 'failed', { error } satisfies ErrorBody, FINAL_EVENT_ID);
  }

  /** The job's view; a job that expired while we streamed ends the stream as failed job_not_found. */
  private async viewOrGone(jobId: string, principal: Principal): Promise<JobView> {
    try {
      return await this.jobs.view(jobId, principal);
    } catch (error) {
      if (!(error instanceof ServiceError) || error.code !== ErrorCode.JobNotFound) throw error;
      return { job_id: jobId, status: 'failed', progress: 0, stage: 'queued', error: { code: ErrorCode.JobNotFound, message: `job ${jobId} is gone (expired)` } };
    }
  }
}
