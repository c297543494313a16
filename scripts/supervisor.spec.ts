import { RestartPolicy } from './supervisor';

describe('RestartPolicy', () => {
  it('backs off 1 s, 2 s, 4 s, 8 s … capped at 30 s', () => {
    const policy = new RestartPolicy();
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((attempt) => policy.backoffMs(attempt))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('crashes in a row get longer delays; the fifth within a minute gives up', () => {
    const policy = new RestartPolicy();
    let now = 0;
    const decisions = [];
    for (let n = 0; n < 5; n++) {
      decisions.push(policy.recordCrash(now, 500));
      now += 5_000;
    }
    expect(decisions).toEqual([
      { action: 'restart', delayMs: 1_000, crashesInWindow: 1 },
      { action: 'restart', delayMs: 2_000, crashesInWindow: 2 },
      { action: 'restart', delayMs: 4_000, crashesInWindow: 3 },
      { action: 'restart', delayMs: 8_000, crashesInWindow: 4 },
      { action: 'give-up', crashesInWindow: 5 },
    ]);
  });

  it('crashes spread over more than a minute never give up (older ones leave the window)', () => {
    const policy = new RestartPolicy();
    for (let n = 0; n < 20; n++) {
      const decision = policy.recordCrash(n * 20_000, 15_000);
      expect(decision.action).toBe('restart');
      expect(decision.crashesInWindow).toBeLessThanOrEqual(3);
    }
  });

  it('a worker that ran stably before crashing restarts after the first delay again', () => {
    const policy = new RestartPolicy();
    expect(policy.recordCrash(0, 100)).toMatchObject({ delayMs: 1_000 });
    expect(policy.recordCrash(2_000, 100)).toMatchObject({ delayMs: 2_000 });
    expect(policy.recordCrash(10 * 60_000, 9 * 60_000)).toMatchObject({ action: 'restart', delayMs: 1_000, crashesInWindow: 1 });
  });

  it('a stable run does not clear the window: five crashes in a minute give up all the same', () => {
    const policy = new RestartPolicy({ stableAfterMs: 1_000 });
    for (let n = 0; n < 4; n++) expect(policy.recordCrash(n * 10_000, 5_000).action).toBe('restart');
    expect(policy.recordCrash(40_000, 5_000)).toEqual({ action: 'give-up', crashesInWindow: 5 });
  });

  it('takes its limits as options, and refuses nonsense', () => {
    const policy = new RestartPolicy({ maxCrashes: 2, windowMs: 1_000, initialDelayMs: 100, maxDelayMs: 150 });
    expect(policy.recordCrash(0, 0)).toEqual({ action: 'restart', delayMs: 100, crashesInWindow: 1 });
    expect(policy.recordCrash(2_000, 0)).toEqual({ action: 'restart', delayMs: 150, crashesInWindow: 1 });
    expect(policy.recordCrash(2_500, 0)).toEqual({ action: 'give-up', crashesInWindow: 2 });
    expect(() => new RestartPolicy({ maxCrashes: 0 })).toThrow(/invalid restart policy/);
    expect(() => new RestartPolicy({ initialDelayMs: 2_000, maxDelayMs: 1_000 })).toThrow(/invalid restart policy/);
  });
});
