import { BeforeApplicationShutdown, Controller, Delete, Get, Headers, Inject, Param, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import Redis from 'ioredis';
import { JobListBody, JobView, readFormatQuery } from '@app/contracts';
import { API_REDIS } from '../api.tokens';
import { Access, CurrentPrincipal } from '../auth/access.decorator';
import type { Principal } from '../auth/credentials';
import { sendTranscript } from '../transcribe/transcript-response';
import { JobEventStream, readLastEventId } from './job-event-stream';
import { checkedJobId } from './job-id';
import { readJobListQuery } from './job-list-query';
import { TranscriptionJobsService } from './transcription-jobs.service';

/** A key sees and cancels its own jobs only (others answer 404); the admin token sees every job. */
@Controller('jobs')
@Access('owner')
export class JobsController implements BeforeApplicationShutdown {
  private readonly events: JobEventStream;

  constructor(
    private readonly jobs: TranscriptionJobsService,
    @Inject(API_REDIS) redis: Redis,
  ) {
    this.events = new JobEventStream(redis, jobs);
  }

  /** The caller's own jobs, newest first, without their results (`status`, `limit`, `cursor`). */
  @Get()
  list(@Query() query: Record<string, unknown>, @CurrentPrincipal() principal: Principal): Promise<JobListBody> {
    return this.jobs.list(principal, readJobListQuery(query));
  }

  @Get(':id')
  view(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<JobView> {
    return this.jobs.view(checkedJobId(id), principal);
  }

  /**
   * The finished transcript in a format (`format` = json … verbose_json, plus the subtitle shaping
   * options), as a download named after the upload. 409 job_not_completed until it is done.
   */
  @Get(':id/result')
  async result(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<object | string> {
    const jobId = checkedJobId(id);
    const format = readFormatQuery(query);
    const { result, fileName } = await this.jobs.completedResult(jobId, principal);
    return sendTranscript(response, result, format, fileName, true);
  }

  /**
   * The job's progress as Server-Sent Events until it ends (queued, active, segment, then completed,
   * failed or cancelled). `Last-Event-ID` (or `?last_event_id=` for EventSource polyfills that cannot
   * set it) resumes after that event.
   */
  @Get(':id/events')
  async streamEvents(
    @Param('id') id: string,
    @Headers('last-event-id') lastEventIdHeader: string | undefined,
    @Query('last_event_id') lastEventIdQuery: unknown,
    @CurrentPrincipal() principal: Principal,
    @Res() response: Response,
  ): Promise<void> {
    const jobId = checkedJobId(id);
    const lastEventId = readLastEventId(lastEventIdHeader, 'Last-Event-ID') ?? readLastEventId(lastEventIdQuery, 'last_event_id');
    await this.events.stream(jobId, principal, lastEventId, response);
  }

  /** Before the HTTP server closes: open event streams would keep it open. */
  beforeApplicationShutdown(): void {
    this.events.closeAll();
  }

  @Delete(':id')
  cancel(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<JobView> {
    return this.jobs.cancel(checkedJobId(id), principal);
  }
}
