import { Injectable } from '@nestjs/common';

/** Abort handles of the jobs this worker is running, so a cancel message can reach them. */
@Injectable()
export class ActiveJobsRegistry {
  private readonly controllers = new Map<string, AbortController>();
  private readonly changeListeners = new Set<() => void>();

  start(jobId: string): AbortController {
    const controller = new AbortController();
    this.controllers.set(jobId, controller);
    this.changed();
    return controller;
  }

  /** Called after every job start and finish; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }

  finish(jobId: string): void {
    if (this.controllers.delete(jobId)) this.changed();
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
