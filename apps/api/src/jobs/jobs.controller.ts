import { Controller, Delete, Get, Param, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { JobView, readFormatQuery } from '@app/contracts';
import { Access, CurrentPrincipal } from '../auth/access.decorator';
import type { Principal } from '../auth/credentials';
import { sendTranscript } from '../transcribe/transcript-response';
import { checkedJobId } from './job-id';
import { TranscriptionJobsService } from './transcription-jobs.service';

/** A key sees and cancels its own jobs only (others answer 404); the admin token sees every job. */
@Controller('jobs')
@Access('owner')
export class JobsController {
  constructor(private readonly jobs: TranscriptionJobsService) {}

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

  @Delete(':id')
  cancel(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<JobView> {
    return this.jobs.cancel(checkedJobId(id), principal);
  }
}
