/**
 * The restart policy `npm start` applies to each worker process it runs: pure (times come in as
 * arguments), so the backoff and the give-up rule are unit-tested without processes.
 *
 * - A crash is restarted after a backoff that doubles with each crash in a row (1 s, 2 s, 4 s …,
 *   capped at maxDelayMs); a worker that stayed up for stableAfterMs before crashing starts the
 *   sequence again at initialDelayMs.
 * - maxCrashes crashes within windowMs mean something is broken for good (a bad model file, a boot
 *   check that fails, no memory): restarting would only hide it, so the supervisor gives up.
 */
export interface RestartPolicyOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  maxCrashes: number;
  windowMs: number;
  stableAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxCrashes: 5,
  windowMs: 60_000,
  stableAfterMs: 60_000,
};

export type CrashDecision =
  | { action: 'restart'; delayMs: number; crashesInWindow: number }
  | { action: 'give-up'; crashesInWindow: number };

export class RestartPolicy {
  private readonly options: RestartPolicyOptions;
  /** times (ms) of the crashes still inside the window */
  private crashTimes: number[] = [];
  /** crashes in a row without a stable run in between */
  private consecutive = 0;

  constructor(options: Partial<RestartPolicyOptions> = {}) {
    this.options = { ...DEFAULT_RESTART_POLICY, ...options };
    const { initialDelayMs, maxDelayMs, maxCrashes, windowMs } = this.options;
    if (!(initialDelayMs > 0 && maxDelayMs >= initialDelayMs && maxCrashes >= 1 && windowMs > 0)) {
      throw new Error(`invalid restart policy ${JSON.stringify(this.options)}`);
    }
  }

  /** The delay before restart number `attempt` (1-based) of a crash sequence. */
  backoffMs(attempt: number): number {
    const { initialDelayMs, maxDelayMs } = this.options;
    return Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt - 1));
  }

  /** A crash at `now` of a process that had been up `uptimeMs`: restart it after a delay, or give up. */
  recordCrash(now: number, uptimeMs: number): CrashDecision {
    const { windowMs, maxCrashes, stableAfterMs } = this.options;
    this.crashTimes = [...this.crashTimes.filter((time) => now - time < windowMs), now];
    this.consecutive = uptimeMs >= stableAfterMs ? 1 : this.consecutive + 1;
    const crashesInWindow = this.crashTimes.length;
    if (crashesInWindow >= maxCrashes) return { action: 'give-up', crashesInWindow };
    return { action: 'restart', delayMs: this.backoffMs(this.consecutive), crashesInWindow };
  }
}
