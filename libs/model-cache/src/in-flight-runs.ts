/**
 * Counts the calls running on a native model (an onnxruntime session) so that freeing it can wait
 * for them: `close()` refuses new calls and resolves when the last one in flight has ended. The
 * model cache frees a model only when no job holds it; this keeps a direct release() safe as well.
 */
export class InFlightRuns {
  private running = 0;
  private closed = false;
  private idle?: () => void;
  private closing?: Promise<void>;

  /** `what` names the model in the error a call after close() gets. */
  constructor(private readonly what: string) {}

  get active(): number {
    return this.running;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error(`${this.what} has been released`);
    this.running += 1;
    try {
      return await work();
    } finally {
      this.running -= 1;
      if (this.running === 0) this.idle?.();
    }
  }

  /** Idempotent: the same promise every time. */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= this.running === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.idle = resolve));
    return this.closing;
  }
}
