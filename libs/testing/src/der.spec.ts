import fc from 'fast-check';
import { diarizationErrorRate } from './der';
import { maxWeightAssignment, type SpeakerTurn } from '@app/diarization';

const turn = (start: number, end: number, speaker: string): SpeakerTurn => ({ start, end, speaker });
const noCollar = { collar: 0 };

describe('diarizationErrorRate', () => {
  const ref = [turn(0, 10, 'alice'), turn(10, 20, 'bob')];

  it('is 0 for a perfect hypothesis', () => {
    const r = diarizationErrorRate(ref, ref, noCollar);
    expect(r.der).toBe(0);
    expect(r.total).toBe(20);
  });

  it('is 0 when labels differ but map one-to-one', () => {
    const r = diarizationErrorRate(ref, [turn(0, 10, 'SPEAKER_01'), turn(10, 20, 'SPEAKER_00')], noCollar);
    expect(r.der).toBe(0);
    expect(r.mapping.get('SPEAKER_01')).toBe('alice');
    expect(r.mapping.get('SPEAKER_00')).toBe('bob');
  });

  it('half missed → 0.5', () => {
    const r = diarizationErrorRate(ref, [turn(0, 10, 'x')], noCollar);
    expect(r.missed).toBe(10);
    expect(r.der).toBe(0.5);
  });

  it('false alarm counts against reference time', () => {
    const r = diarizationErrorRate([turn(0, 10, 'a')], [turn(0, 10, 'x'), turn(10, 15, 'x')], noCollar);
    expect(r.falseAlarm).toBe(5);
    expect(r.der).toBe(0.5);
  });

  it('one speaker for everything → the other speaker’s time is confusion', () => {
    const r = diarizationErrorRate(ref, [turn(0, 20, 'x')], noCollar);
    expect(r.confusion).toBe(10);
    expect(r.der).toBe(0.5);
  });

  it('counts overlapped speech per speaker', () => {
    // reference: a 0–10, b 5–10 (overlap) → total 15; hypothesis only a → 5 s missed
    const r = diarizationErrorRate([turn(0, 10, 'a'), turn(5, 10, 'b')], [turn(0, 10, 'x')], noCollar);
    expect(r.total).toBe(15);
    expect(r.missed).toBe(5);
    expect(r.der).toBeCloseTo(1 / 3, 12);
    expect(diarizationErrorRate([turn(0, 10, 'a'), turn(5, 10, 'b')], [turn(0, 10, 'a'), turn(5, 10, 'b')], { skipOverlap: true, collar: 0 }).total).toBe(5);
  });

  it('excludes the collar around every reference boundary', () => {
    // boundaries at 0, 10, 20 with ±0.25 s → scored reference time 20 − 0.25 − 0.5 − 0.25 = 19
    const shifted = [turn(0, 10.2, 'a'), turn(10.2, 20, 'b')]; // boundary 0.2 s late: inside the collar
    const r = diarizationErrorRate(ref, shifted);
    expect(r.total).toBeCloseTo(19, 12);
    expect(r.der).toBe(0);
    expect(diarizationErrorRate(ref, shifted, noCollar).der).toBeCloseTo(0.2 / 20, 12);
  });

  it('merges overlapping turns of one speaker (union)', () => {
    const r = diarizationErrorRate([turn(0, 10, 'a'), turn(5, 12, 'a')], [turn(0, 12, 'x')], noCollar);
    expect(r.total).toBe(12);
    expect(r.der).toBe(0);
  });

  it('empty cases', () => {
    expect(diarizationErrorRate([], []).der).toBe(0);
    expect(diarizationErrorRate([], [turn(0, 1, 'x')]).der).toBe(Infinity);
    expect(diarizationErrorRate([turn(0, 4, 'a')], [], noCollar).der).toBe(1);
  });

  const turnsArb = (labels: string[]) =>
    fc.array(
      fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: 20 }), fc.constantFrom(...labels)).map(([s, l, sp]) => turn(s / 2, (s + l) / 2, sp)),
      { minLength: 1, maxLength: 15 },
    );

  it('property: DER ≥ 0, finite for non-empty reference, 0 for identical input and for relabelled input', () => {
    fc.assert(
      fc.property(turnsArb(['a', 'b', 'c']), turnsArb(['x', 'y', 'z', 'w']), fc.constantFrom(0, 0.25), (reference, hypothesis, collar) => {
        const r = diarizationErrorRate(reference, hypothesis, { collar });
        expect(r.der).toBeGreaterThanOrEqual(0);
        expect(r.missed).toBeGreaterThanOrEqual(0);
        expect(r.confusion).toBeGreaterThanOrEqual(-1e-9);
        if (r.total > 0) expect(Number.isFinite(r.der)).toBe(true);
        expect(diarizationErrorRate(reference, reference, { collar }).der).toBe(0);
        const renamed = reference.map((t) => ({ ...t, speaker: `S_${t.speaker}` }));
        expect(diarizationErrorRate(reference, renamed, { collar }).der).toBeCloseTo(0, 12);
      }),
      { numRuns: 200 },
    );
  });

  it('property: matches a sampled-grid computation with brute-force mapping', () => {
    fc.assert(
      fc.property(turnsArb(['a', 'b', 'c']), turnsArb(['x', 'y']), (reference, hypothesis) => {
        const exact = diarizationErrorRate(reference, hypothesis, noCollar);
        const grid = gridDer(reference, hypothesis);
        expect(Math.abs(exact.der - grid)).toBeLessThan(1e-6);
      }),
      { numRuns: 100 },
    );
  });
});

/** Independent check: sample at 0.25 s steps (all boundaries are multiples of 0.5), try every mapping. */
function gridDer(reference: SpeakerTurn[], hypothesis: SpeakerTurn[]): number {
  const refIds = [...new Set(reference.map((t) => t.speaker))];
  const hypIds = [...new Set(hypothesis.map((t) => t.speaker))];
  const on = (turns: SpeakerTurn[], s: string, t: number) => turns.some((x) => x.speaker === s && x.start <= t && t < x.end);
  const mappings: Map<string, string>[] = [];
  const extend = (i: number, used: Set<string>, m: Map<string, string>) => {
    if (i === hypIds.length) {
      mappings.push(new Map(m));
      return;
    }
    extend(i + 1, used, m); // leave unmapped
    for (const r of refIds) {
      if (used.has(r)) continue;
      used.add(r);
      m.set(hypIds[i], r);
      extend(i + 1, used, m);
      m.delete(hypIds[i]);
      used.delete(r);
    }
  };
  extend(0, new Set(), new Map());
  let best = Infinity;
  for (const m of mappings) {
    let total = 0;
    let errors = 0;
    for (let t = 0.125; t < 70; t += 0.25) {
      const R = refIds.filter((s) => on(reference, s, t));
      const H = hypIds.filter((s) => on(hypothesis, s, t));
      const correct = H.filter((h) => m.has(h) && R.includes(m.get(h) as string)).length;
      total += R.length;
      errors += Math.max(R.length, H.length) - correct;
    }
    best = Math.min(best, errors / total);
  }
  return best;
}

describe('maxWeightAssignment (Hungarian)', () => {
  it('property: equals brute force over all assignments, rectangular both ways', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 25, maxLength: 25 }), (rows, cols, values) => {
        const w = Float64Array.from(values.slice(0, rows * cols));
        const a = maxWeightAssignment(w, rows, cols);
        const used = new Set<number>();
        let got = 0;
        a.forEach((c, r) => {
          if (c < 0) return;
          expect(used.has(c)).toBe(false);
          used.add(c);
          got += w[r * cols + c];
        });
        expect(used.size).toBe(Math.min(rows, cols));
        expect(got).toBe(bruteForce(w, rows, cols));
      }),
      { numRuns: 300 },
    );
  });
});

function bruteForce(w: Float64Array, rows: number, cols: number): number {
  let best = 0;
  const go = (r: number, used: Set<number>, acc: number) => {
    if (r === rows) {
      best = Math.max(best, acc);
      return;
    }
    go(r + 1, used, acc);
    for (let c = 0; c < cols; c++) {
      if (used.has(c)) continue;
      used.add(c);
      go(r + 1, used, acc + w[r * cols + c]);
      used.delete(c);
    }
  };
  go(0, new Set(), 0);
  return best;
}
