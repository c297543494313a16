import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Job, Queue } from 'bullmq';
import { jobKindLabel, TRANSCRIBE_QUEUE } from '@app/contracts';
import { ApiMetrics } from './api-metrics';

/**
 * The jobs accepted: the Queue object emits 'waiting' for each job *this process* adds, so N
 * replicas never count one job N times. (Jobs cancelled while waiting are counted where they are
 * removed: TranscriptionJobsService.cancel.)
 */
@Injectable()
export class JobCountingListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly onWaiting = (job: Job) => this.metrics.jobsAccepted.inc({ kind: jobKindLabel(job?.name) });

  constructor(
    private readonly metrics: ApiMetrics,
    @InjectQueue(TRANSCRIBE_QUEUE) private readonly queue: Queue,
  ) {}

  onApplicationBootstrap(): void {
    this.queue.on('waiting', this.onWaiting);
  }

  onApplicationShutdown(): void {
    this.queue.off('waiting', this.onWaiting);
  }
}
