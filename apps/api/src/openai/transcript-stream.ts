import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Response } from 'express';
import Redis from 'ioredis';
import {
  ErrorCode,
  JobEvent,
  openAiStreamError,
  OpenAiStreamEvent,
  ServiceError,
  SSE_KEEPALIVE,
  sseMessage,
  TranscriptDeltas,
  transcriptText,
} from '@app/contracts';
import type { Principal } from '../auth/credentials';
import { JobEventsReader } from '../jobs/job-events.reader';
import { TranscriptionJobsService } from '../jobs/transcription-jobs.service';

/** How long one XREAD waits; between waits the job's status is checked (a job removed or failed without its event). */
const BLOCK_MS = 2_000;
/** An SSE comment this often while nothing happens, so proxies keep the connection. */
const KEEPALIVE_MS = 15_000;

/** A job error as the client sent its fields (allowed_languages → language, …). */
export type ErrorRenamer = (error: ServiceError) => unknown;

/**
 * POST /v1/audio/transcriptions with stream=true, once the job is queued: OpenAI's
 * transcript.text.delta events as the worker's segment events arrive (in order), then
 * transcript.text.done with the result's text; a failure after the 200 is an SSE error event in
 * OpenAI's error shape, then the end. A client that disconnects stops the reading only: the job
 * goes on (as a synchronous request's does) and its transcript stays at GET /jobs/{X-Job-Id}/result.
 */
export class TranscriptStreamer {
  private readonly logger = new Logger(TranscriptStreamer.name);

  constructor(
    private readonly redis: Redis,
    private readonly jobs: TranscriptionJobsService,
    /** no event for this long: transcription_timeout (SYNC_TIMEOUT_S, as a synchronous request waits) */
    private readonly idleTimeoutMs: number,
  ) {}

  async stream(jobId: string, principal: Principal, response: Response, rename: ErrorRenamer): Promise<void> {
    response.status(200);
    response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    response.setHeader('Cache-Control', 'no-cache, no-transform');
    // nginx and similar proxies buffer responses unless told not to
    response.setHeader('X-Accel-Buffering', 'no');
    response.setHeader('X-Job-Id', jobId);
    response.flushHeaders();

    const reader = new JobEventsReader(this.redis, jobId);
    let disconnected = false;
    response.on('close', () => {
      if (response.writableFinished) return;
      disconnected = true;
      reader.close();
    });
    const send = (event: OpenAiStreamEvent) => {
      if (!disconnected) response.write(sseMessage(event));
    };
    const deltas = new TranscriptDeltas();
    let lastEventAt = Date.now();
    let lastWriteAt = Date.now();
    try {
      while (!disconnected) {
        const entries = await reader.next(BLOCK_MS);
        if (disconnected) break;
        // nothing new: the job's status says whether it ended without its event (removed by a cancel, expired)
        const events = entries.length > 0 ? entries.map((entry) => entry.event) : [await this.finalFromStatus(jobId, principal)].filter((e): e is JobEvent => e !== undefined);
        if (events.length === 0) {
          if (Date.now() - lastEventAt >= this.idleTimeoutMs) {
            send(openAiStreamError(ErrorCode.TranscriptionTimeout, `no progress within SYNC_TIMEOUT_S; job ${jobId} goes on: GET /jobs/${jobId} with the same key`));
            break;
          }
          if (Date.now() - lastWriteAt >= KEEPALIVE_MS) {
            response.write(SSE_KEEPALIVE);
            lastWriteAt = Date.now();
          }
          continue;
        }
        lastEventAt = lastWriteAt = Date.now();
        if (this.deliver(jobId, events, deltas, send, rename)) break;
      }
    } catch (error) {
      if (!disconnected) send(this.unexpected(jobId, error, rename));
    } finally {
      reader.close();
      if (!response.writableEnded) response.end();
    }
  }

  /** Writes the events' SSE messages; true once the job's final event was written. */
  private deliver(jobId: string, events: JobEvent[], deltas: TranscriptDeltas, send: (event: OpenAiStreamEvent) => void, rename: ErrorRenamer): boolean {
    for (const event of events) {
      // progress has no OpenAI event
      if (event.type === 'active') continue;
      if (event.type === 'segment') {
        const delta = deltas.push(event);
        if (delta) send(delta);
        continue;
      }
      if (event.type === 'completed') {
        const { events: last, consistent } = deltas.finish(event.text);
        if (!consistent) this.logger.warn(`job ${jobId}: streamed deltas are not a prefix of the final text (the job ran again and decoded differently)`);
        last.forEach(send);
        return true;
      }
      const renamed = rename(new ServiceError(event.error.code as ErrorCode, event.error.message, event.error.field, event.error.error_id));
      send(this.asStreamError(renamed));
      return true;
    }
    return false;
  }

  /** The job's final event from its status when the stream has none: completed, failed/cancelled, or gone. */
  private async finalFromStatus(jobId: string, principal: Principal): Promise<JobEvent | undefined> {
    try {
      const view = await this.jobs.view(jobId, principal);
      if (view.status === 'completed' && view.result) {
        return { type: 'completed', text: transcriptText(view.result), duration: view.result.duration, language: view.result.language };
      }
      if ((view.status === 'failed' || view.status === 'cancelled') && view.error) {
        return { type: 'failed', error: { ...view.error, code: view.error.code as ErrorCode } };
      }
      return undefined;
    } catch (error) {
      if (error instanceof ServiceError && error.code === ErrorCode.JobNotFound) {
        return { type: 'failed', error: { code: ErrorCode.JobNotFound, message: `job ${jobId} is gone (cancelled or expired)` } };
      }
      throw error;
    }
  }

  private asStreamError(error: unknown): OpenAiStreamEvent {
    if (error instanceof ServiceError) return openAiStreamError(error.code, error.message, error.field);
    return openAiStreamError(ErrorCode.Internal, 'internal error while streaming');
  }

  /** An error of our own while streaming (Redis gone, …): logged with an id, sent as OpenAI's error. */
  private unexpected(jobId: string, error: unknown, rename: ErrorRenamer): OpenAiStreamEvent {
    if (error instanceof ServiceError) return this.asStreamError(rename(error));
    const errorId = randomUUID();
    this.logger.error(`streaming job ${jobId} stopped (error id ${errorId}): ${(error as Error)?.stack ?? String(error)}`);
    return openAiStreamError(ErrorCode.Internal, `streaming stopped (error id ${errorId}); job ${jobId} goes on: GET /jobs/${jobId}`);
  }
}
