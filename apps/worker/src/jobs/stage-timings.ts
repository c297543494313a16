/** Milliseconds each stage of a job took, for the result's `timings_ms` (a stage that throws is timed too). */
export class StageTimings {
  readonly ms: Record<string, number> = {};

  async time<T>(stage: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.ms[stage] = Math.round(performance.now() - started);
    }
  }
}
