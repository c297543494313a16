import { Controller, Delete, Get, Param } from '@nestjs/common';
import type { JobView } from '@app/contracts';
import { Access, CurrentPrincipal } from '../auth/access.decorator';
import type { Principal } from '../auth/credentials';
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

  @Delete(':id')
  cancel(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<JobView> {
    return this.jobs.cancel(checkedJobId(id), principal);
  }
}
