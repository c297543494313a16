import fc from 'fast-check';
import { EDGE_GATE, edgeGate, frameLevels, SampleSpan, tightenToEnergy } from './energy-edges';

const RATE = 16_000;
const FRAME = 160; // 10 ms

/**
 * Test signals built from 10 ms frames of a 1 kHz sine (exactly 10 periods per frame), so every
 * frame's level is exactly the dBFS asked for; `null` is digital silence.
 */
function frames(levels: Array<number | null>): Float32Array {
  const out = new Float32Array(levels.length * FRAME);
  levels.forEach((db, f) => {
    if (db === null) return;
    const amplitude = Math.SQRT2 * 10 ** (db / 20);
    for (let i = 0; i < FRAME; i++) out[f * FRAME + i] = amplitude * Math.sin((2 * Math.PI * 1000 * i) / RATE);
  });
  return out;
}

const repeat = <T>(value: T, count: number): T[] => Array.from({ length: count }, () => value);
/** 7 of every 10 frames at `low`, 3 at `low + 10`: median `low`, p90 `low + 10` */
const fluctuating = (low: number, count: number): number[] => Array.from({ length: count }, (_, i) => (i % 10 < 7 ? low : low + 10));
const span = (startFrame: number, endFrame: number): SampleSpan => ({ start: startFrame * FRAME, end: endFrame * FRAME });
const inFrames = (spans: SampleSpan[]): Array<[number, number]> => spans.map((s) => [s.start / FRAME, s.end / FRAME]);

describe('frameLevels', () => {
  it('gives mean power per 10 ms frame in dBFS (−3.01 for a full-scale sine), −100 for digital silence, a partial last frame on its own length', () => {
    const fullScale = Float32Array.from({ length: FRAME }, (_, i) => Math.sin((2 * Math.PI * 1000 * i) / RATE));
    const sine = frames([-20, null]);
    const levels = frameLevels(Float32Array.from([...fullScale, ...sine, ...sine.subarray(0, 80)]), FRAME);
    expect(levels).toHaveLength(4);
    expect(levels[0]).toBeCloseTo(-3.01, 2);
    expect(levels[1]).toBeCloseTo(-20, 4);
    expect(levels[2]).toBeCloseTo(-100, 4);
    expect(levels[3]).toBeCloseTo(-20, 4);
  });
});

describe('edgeGate', () => {
  const of = (levels: number[], peak = -10): number => edgeGate(Float32Array.from(levels), peak, EDGE_GATE);

  it('a steady background: its level + 6 dB', () => {
    expect(of(repeat(-50, 20))).toBeCloseTo(-44, 5);
  });

  it('the margin grows with the background spread (p90 − median), up to 15 dB', () => {
    expect(of([...repeat(-50, 16), ...repeat(-46, 4)])).toBeCloseTo(-50 + 6 + 4, 5);
    expect(of([...repeat(-50, 16), ...repeat(-30, 4)])).toBeCloseTo(-50 + 15, 5);
  });

  it('never lower than 45 dB under the peak', () => {
    expect(of(repeat(-60, 20), 0)).toBeCloseTo(-45, 5);
    expect(of(repeat(-60, 20), -20)).toBeCloseTo(-54, 5);
  });

  it('ignores digital silence, and with under 10 audible frames falls back to the peak rule', () => {
    expect(of([...repeat(-50, 10), ...repeat(-100, 30)])).toBeCloseTo(-44, 5);
    expect(of([...repeat(-50, 9), ...repeat(-100, 30)])).toBeCloseTo(-55, 5);
    expect(of([])).toBeCloseTo(-55, 5);
  });
});

describe('tightenToEnergy', () => {
  it('cuts a reverberant tail where it sinks into a fluctuating background (jfk: the applause after "country")', () => {
    // background median −40 / p90 −30 → gate −25; the tail falls 1 dB per frame from −20.5
    const tail = Array.from({ length: 20 }, (_, i) => -20.5 - i);
    const pcm = frames([...fluctuating(-40, 100), ...repeat(-12, 50), ...tail, ...fluctuating(-40, 100)]);
    // a Silero-like span: starts 10 frames early, runs 25 frames past the tail
    expect(inFrames(tightenToEnergy([span(90, 195)], pcm))).toEqual([[100, 150 + 5]]);
  });

  it('keeps a weak final burst after a closure when the noise floor is steady', () => {
    // steady −50 → gate −44: the burst at −42 (8 dB over the floor) stays
    const pcm = frames([...repeat(-50, 100), ...repeat(-15, 40), ...repeat(-50, 6), ...repeat(-42, 2), ...repeat(-50, 100)]);
    expect(inFrames(tightenToEnergy([span(100, 170)], pcm))).toEqual([[100, 148]]);
  });

  it('drops the same burst when the background fluctuates by as much', () => {
    // median −50, p90 −40 → gate −35
    const pcm = frames([...fluctuating(-50, 100), ...repeat(-15, 40), ...repeat(-50, 6), ...repeat(-42, 2), ...fluctuating(-50, 100)]);
    expect(inFrames(tightenToEnergy([span(100, 170)], pcm))).toEqual([[100, 140]]);
  });

  it('in digital silence, trims what lies more than 45 dB under the peak', () => {
    const pcm = frames([...repeat(null, 50), ...repeat(-10, 30), ...repeat(-50, 5), ...repeat(-58, 5), ...repeat(null, 50)]);
    expect(inFrames(tightenToEnergy([span(45, 100)], pcm))).toEqual([[50, 85]]);
  });

  it('leaves a span alone when less than 100 ms of it stands out (speech in noise is still speech)', () => {
    const pcm = frames([...repeat(-50, 100), ...repeat(-47, 60), ...repeat(-40, 9), ...repeat(-47, 20), ...repeat(-50, 100)]);
    expect(inFrames(tightenToEnergy([span(100, 189)], pcm))).toEqual([[100, 189]]);
  });

  it("measures each edge's background only up to the neighbouring span", () => {
    // a loud second span 15 frames after the first must not count as the first one's background
    const pcm = frames([...repeat(-50, 100), ...repeat(-15, 40), ...repeat(-30, 3), ...repeat(-50, 15), ...repeat(-5, 100), ...repeat(-50, 100)]);
    const spans = [span(100, 145), span(158, 258)];
    expect(inFrames(tightenToEnergy(spans, pcm))).toEqual([
      [100, 143],
      [158, 258],
    ]);
  });

  it('only ever moves edges inward, keeps order and count, on arbitrary signals and spans', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(null), fc.integer({ min: -90, max: 0 })), { minLength: 1, maxLength: 300 }),
        fc.array(fc.integer({ min: 0, max: 300 * FRAME }), { maxLength: 8 }),
        (levels, cuts) => {
          const pcm = frames(levels);
          const points = [...new Set(cuts.map((c) => Math.min(c, pcm.length)))].sort((a, b) => a - b);
          const spans: SampleSpan[] = [];
          for (let i = 0; i + 1 < points.length; i += 2) spans.push({ start: points[i], end: points[i + 1] });
          const out = tightenToEnergy(spans, pcm);
          expect(out).toHaveLength(spans.length);
          out.forEach((s, i) => {
            expect(s.start).toBeGreaterThanOrEqual(spans[i].start);
            expect(s.end).toBeLessThanOrEqual(spans[i].end);
            expect(s.start).toBeLessThan(s.end);
          });
        },
      ),
      { seed: 5, numRuns: 300 },
    );
  });
});
