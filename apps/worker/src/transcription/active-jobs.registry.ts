import { Injectable } from '@nestjs/common';

/** Abort handles of the jobs this worker is running, so a cancel message can reach them. */
@Injectable()
export class ActiveJobsRegistry {
  private readonly controllers = new Map<string, AbortController>();

  start(jobId: string): AbortController {
    const controller = new AbortController();
    this.controllers.set(jobId, controller);
    return controller;
  }

  finish(jobId: string): void {
    this.controllers.delete(jobId);
  }

  /** true when the job runs here and was told to stop */
  abort(jobId: string): boolean {
    const controller = this.controllers.get(jobId);
    controller?.abort();
    return controller !== undefined;
  }

  get count(): number {
    return this.controllers.size;
  }
}
