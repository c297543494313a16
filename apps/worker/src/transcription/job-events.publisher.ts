import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import {
  isFinalJobEvent,
  JOB_EVENTS_RUNNING_TTL_S,
  JobError,
  JobEvent,
  JobProgress,
  SegmentResult,
  transcriptText,
  TranscriptionResult,
} from '@app/contracts';
import { appendJobEvent } from '@app/redis';

/**
 * The worker's side of the job-events channel (libs/contracts job-events.ts): one Redis Stream per
 * job, appended in order. Best effort: the job's result in BullMQ is the record, so a Redis hiccup
 * here is logged and never fails or slows the transcription.
 */
export class JobEventsPublisher {
  constructor(
    private readonly redis: Redis,
    /** how long a finished job's stream stays readable (RESULT_TTL_S, as its result) */
    private readonly finishedTtlS: number,
    private readonly logger: Logger,
  ) {}

  forJob(jobId: string): JobEventSink {
    return new JobEventSink(this.redis, jobId, this.finishedTtlS, this.logger);
  }
}

/** While a stage goes on, at most one `active` event this often (a new stage goes out at once). */
export const ACTIVE_EVENT_INTERVAL_MS = 1_000;

/** One job's events. Calls return at once; the writes go out one after another, in call order. */
export class JobEventSink {
  private chain: Promise<void> = Promise.resolve();
  private warned = false;
  private lastActive?: { progress: JobProgress; at: number };

  constructor(
    private readonly redis: Redis,
    private readonly jobId: string,
    private readonly finishedTtlS: number,
    private readonly logger: Logger,
  ) {}

  /**
   * The job's progress as the worker records it: a new stage at once, the same stage's movement at
   * most every ACTIVE_EVENT_INTERVAL_MS, so whisper's per-percent callbacks do not flood the stream.
   */
  progress(progress: JobProgress, now = Date.now()): void {
    const last = this.lastActive;
    if (last && last.progress.stage === progress.stage) {
      const moved = progress.percent !== last.progress.percent || progress.download?.received_bytes !== last.progress.download?.received_bytes;
      if (!moved || now - last.at < ACTIVE_EVENT_INTERVAL_MS) return;
    }
    this.lastActive = { progress, at: now };
    this.publish({ type: 'active', stage: progress.stage, percent: progress.percent, ...(progress.download ? { download: progress.download } : {}) });
  }

  /** Segments as the decoder finished them, in transcript order. */
  segments(segments: readonly SegmentResult[]): void {
    for (const segment of segments) this.publish({ type: 'segment', index: segment.id, start: segment.start, end: segment.end, text: segment.text });
  }

  /** The end of the job: resolves once every earlier event and this one were written (or given up on). */
  completed(result: TranscriptionResult): Promise<void> {
    this.publish({ type: 'completed', text: transcriptText(result), duration: result.duration, language: result.language });
    return this.chain;
  }

  failed(error: JobError): Promise<void> {
    this.publish({ type: 'failed', error });
    return this.chain;
  }

  private publish(event: JobEvent): void {
    // a running job's stream expires a day on at most; a finished one as its result does
    const ttl = isFinalJobEvent(event) ? this.finishedTtlS : JOB_EVENTS_RUNNING_TTL_S;
    this.chain = this.chain.then(async () => {
      try {
        await appendJobEvent(this.redis, this.jobId, event, ttl);
      } catch (error) {
        if (this.warned) return;
        this.warned = true;
        this.logger.warn(`job ${this.jobId}: events not published (streaming readers fall back to the job's status): ${(error as Error).message}`);
      }
    });
  }
}
