import { Controller, Delete, Get, Param } from '@nestjs/common';
import { ErrorCode, ServiceError } from '@app/contracts';
import { JobView, TranscriptionJobsService } from './transcription-jobs.service';

const JOB_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

function checkedId(id: string): string {
  if (!JOB_ID_PATTERN.test(id)) throw new ServiceError(ErrorCode.JobNotFound, `no job with id ${id}`);
  return id;
}

@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: TranscriptionJobsService) {}

  @Get(':id')
  view(@Param('id') id: string): Promise<JobView> {
    return this.jobs.view(checkedId(id));
  }

  @Delete(':id')
  cancel(@Param('id') id: string): Promise<JobView> {
    return this.jobs.cancel(checkedId(id));
  }
}
