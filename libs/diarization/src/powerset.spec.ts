import fc from 'fast-check';
import { decodePowerset, powersetMapping } from './powerset';

const CLASS_SETS = [[], [0], [1], [2], [0, 1], [0, 2], [1, 2]];

function logSoftmax(logits: number[]): number[] {
  const m = Math.max(...logits);
  const z = Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0)) + m;
  return logits.map((v) => v - z);
}

describe('powerset decoding (segmentation-3.0)', () => {
  it('orders classes like pyannote: ∅, singletons, then pairs', () => {
    const { mapping, classes } = powersetMapping();
    expect(classes).toBe(7);
    const sets = Array.from({ length: 7 }, (_, c) => [0, 1, 2].filter((s) => mapping[c * 3 + s] === 1));
    expect(sets).toEqual(CLASS_SETS);
    expect(powersetMapping({ speakers: 4, maxSetSize: 3 }).classes).toBe(1 + 4 + 6 + 4);
  });

  it('hard decoding activates exactly the speakers of the argmax class', () => {
    const frames = CLASS_SETS.length;
    const lp = new Float32Array(frames * 7);
    CLASS_SETS.forEach((_, t) => {
      const logits = Array.from({ length: 7 }, (_, c) => (c === t ? 3 : 0));
      lp.set(logSoftmax(logits), t * 7);
    });
    const { activity, speakers } = decodePowerset(lp, frames);
    expect(speakers).toBe(3);
    CLASS_SETS.forEach((set, t) => {
      expect(Array.from(activity.subarray(t * 3, t * 3 + 3))).toEqual([0, 1, 2].map((s) => (set.includes(s) ? 1 : 0)));
    });
  });

  it('soft decoding gives marginals: P(speaker 0) sums the classes containing 0', () => {
    const probs = [0.1, 0.2, 0.05, 0.05, 0.3, 0.25, 0.05];
    const lp = Float32Array.from(probs.map(Math.log));
    const { activity } = decodePowerset(lp, 1, { soft: true });
    expect(activity[0]).toBeCloseTo(0.2 + 0.3 + 0.25, 5);
    expect(activity[1]).toBeCloseTo(0.05 + 0.3 + 0.05, 5);
    expect(activity[2]).toBeCloseTo(0.05 + 0.25 + 0.05, 5);
  });

  it('rejects a shape mismatch', () => {
    expect(() => decodePowerset(new Float32Array(10), 2)).toThrow(RangeError);
  });

  it('property: hard output is 0/1, at most 2 speakers per frame, and is the argmax of the soft marginals when one class dominates', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.float({ min: -5, max: 5, noNaN: true }), { minLength: 7, maxLength: 7 }), { minLength: 1, maxLength: 20 }), (rows) => {
        const lp = new Float32Array(rows.flatMap((r) => logSoftmax(r)));
        const hard = decodePowerset(lp, rows.length).activity;
        const soft = decodePowerset(lp, rows.length, { soft: true }).activity;
        for (let t = 0; t < rows.length; t++) {
          const active = [0, 1, 2].filter((s) => hard[t * 3 + s] === 1);
          expect(active.length).toBeLessThanOrEqual(2);
          for (let s = 0; s < 3; s++) {
            expect([0, 1]).toContain(hard[t * 3 + s]);
            expect(soft[t * 3 + s]).toBeGreaterThanOrEqual(0);
            expect(soft[t * 3 + s]).toBeLessThanOrEqual(1 + 1e-5);
          }
          const p = Array.from(lp.subarray(t * 7, t * 7 + 7), Math.exp);
          if (Math.max(...p) > 0.5) {
            // one class holds most mass: its speakers have marginal > 0.5, the others < 0.5
            for (let s = 0; s < 3; s++) expect(soft[t * 3 + s] > 0.5).toBe(hard[t * 3 + s] === 1);
          }
        }
      }),
    );
  });
});
