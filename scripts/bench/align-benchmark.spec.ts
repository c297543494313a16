import { benchmarkAlignment } from './align-benchmark';

describe('benchmarkAlignment', () => {
  it('aligns a few minutes of synthetic segments and reports realtime speed', () => {
    const res = benchmarkAlignment({ audioSeconds: 120, seed: 7 });
    expect(res.audioSeconds).toBe(120);
    expect(res.segments).toBeGreaterThanOrEqual(4);
    expect(res.segments).toBeLessThanOrEqual(12);
    expect(res.wallMs).toBeGreaterThan(0);
    // the goal is >= 500x on one core; assert a loose floor so a busy CI box does not flake
    expect(res.realtimeFactor).toBeGreaterThan(50);
  });
});
