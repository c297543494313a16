import fc from 'fast-check';
import type { AlignmentInput, CtcVocabulary } from './alignment-types';
import { alignSegment, computeEmissions, forcedAlign, interpolateWords } from './ctc-forced-align';
import { buildCtcVocabulary } from './ctc-vocabulary';
import { splitWords } from './transcript-tokens';

const vocab = buildCtcVocabulary({ '<pad>': 0, '|': 1, a: 2, b: 3, c: 4, o: 5, t: 6, z: 7, '你': 8, '好': 9 });
const id = (ch: string): number => vocab.ids.get(ch) as number;
const PEAK = 10;
/** probability of the peaked id in a frame built by peaked() */
const P = Math.exp(PEAK) / (Math.exp(PEAK) + vocab.size - 1);

/** One frame per label, each strongly peaked on that label ("_" = blank). */
function peaked(labels: string, v: CtcVocabulary = vocab): Float32Array {
  const chars = Array.from(labels);
  const logits = new Float32Array(chars.length * v.size);
  chars.forEach((ch, t) => {
    const column = ch === '_' ? v.blankId : (v.ids.get(ch) as number);
    logits[t * v.size + column] = PEAK;
  });
  return logits;
}

function align(text: string, labels: string, start = 0, end = Array.from(labels).length, perCharacter = false) {
  const frames = Array.from(labels).length;
  return alignSegment({ segment: { text, start, end }, logits: peaked(labels), frames, vocab, perCharacter });
}

describe('alignSegment: hand-made emissions', () => {
  it('finds exact frames for a 3-letter word, leading and trailing blanks left out', () => {
    const out = align('cab', '_c_ab__');
    expect(out.status).toBe('ok');
    expect(out.words).toHaveLength(1);
    const [w] = out.words;
    expect(w.start).toBe(1); // c emitted at frame 1
    expect(w.end).toBe(5); // b at frame 4, exclusive end; trailing blanks not stretched onto it
    expect(w.score).toBeCloseTo(P, 6);
    expect(w.interpolated).toBeUndefined();
  });

  it('maps frames linearly onto the segment timeline', () => {
    const out = align('cab', '_c_ab__', 10, 17.7);
    expect(out.words[0].start).toBeCloseTo(10 + 1.1, 9);
    expect(out.words[0].end).toBeCloseTo(10 + 5.5, 9);
  });

  it('splits words at the separator with blank frames between them', () => {
    const out = align('ab c', 'ab_|__c');
    expect(out.status).toBe('ok');
    expect(out.words.map((w) => [w.word, w.start, w.end])).toEqual([
      ['ab', 0, 2], // b ends where its own emission ends: the blank after it belongs to no letter
      ['c', 6, 7], // the separator owns frames 3..5, it is part of no word
    ]);
  });

  it('aligns a repeated letter ("oo") through a blank between the repeats', () => {
    const frames = 't_o_o_';
    const em = computeEmissions(peaked(frames), 6, vocab.size, vocab.blankId, false);
    if (!em) throw new Error('emissions expected');
    const res = forcedAlign(em, Int32Array.from([id('t'), id('o'), id('o')]));
    if (!res.ok) throw new Error(res.reason);
    expect(Array.from(res.spans.start)).toEqual([0, 2, 4]);
    expect(Array.from(res.spans.end)).toEqual([1, 3, 5]);
    const out = align('too', frames);
    expect(out.words[0]).toMatchObject({ word: 'too', start: 0, end: 5 });
  });

  it('lets a wildcard (digit) take any non-blank frame: "a1b"', () => {
    const out = align('a1b', 'azb_');
    expect(out.status).toBe('ok');
    expect(out.words[0]).toMatchObject({ word: 'a1b', start: 0, end: 3 });
    expect(out.words[0].score).toBeCloseTo(P, 6); // the wildcard used z's probability
  });

  it('keeps original casing and punctuation in the output words', () => {
    const out = align('  CAB, Ab!  ', 'c_ab_|a_bz');
    expect(out.words.map((w) => w.word)).toEqual(['CAB,', 'Ab!']);
    expect(out.status).toBe('ok');
    expect(out.words[1].start).toBe(6);
  });

  it('perCharacter: each character is a word, no separators', () => {
    const out = align('你好', '_你__好_', 0, 6, true);
    expect(out.words.map((w) => [w.word, w.start, w.end])).toEqual([
      ['你', 1, 2],
      ['好', 4, 5],
    ]);
  });

  it('works with a blank that is not id 0', () => {
    const v = buildCtcVocabulary({ a: 0, b: 1, '|': 2, '[PAD]': 3 });
    const logits = peaked('_a_|b', v);
    const out = alignSegment({ segment: { text: 'a b', start: 0, end: 5 }, logits, frames: 5, vocab: v });
    expect(out.words.map((w) => [w.start, w.end])).toEqual([[1, 2], [4, 5]]);
  });

  it('interpolates every word when tokens outnumber frames (T < L), without throwing', () => {
    const out = align('ab c', 'ab', 0, 3);
    expect(out.status).toBe('interpolated');
    expect(out.reason).toMatch(/cannot fit/);
    expect(out.words.every((w) => w.interpolated === true && w.score === 0)).toBe(true);
    // no word aligned: the segment is split by character count (2:1)
    expect(out.words.map((w) => [w.start, w.end])).toEqual([[0, 2], [2, 3]]);
  });

  it('drops wildcards when that makes the transcript fit; a wildcard-only word is interpolated', () => {
    // 7 tokens (a b | 1 2 | c) for 6 frames: the digits are skipped, the separators kept
    const out = align('ab 12 c', 'ab|_|c');
    expect(out.status).toBe('partial');
    expect(out.reason).toMatch(/1 of 3 words.*outside the vocabulary were skipped/);
    expect(out.words.map((w) => [w.word, w.start, w.end, w.interpolated])).toEqual([
      ['ab', 0, 2, undefined],
      ['12', 2, 5, true], // the gap between its aligned neighbours (the separators' frames)
      ['c', 5, 6, undefined],
    ]);
  });

  it('handles empty text, zero frames and bad logits without throwing', () => {
    expect(align('', '')).toEqual({ words: [], status: 'ok' });
    expect(align(' \n ', '_a')).toEqual({ words: [], status: 'ok' });
    const none = alignSegment({ segment: { text: 'a b', start: 1, end: 2 }, logits: new Float32Array(0), frames: 0, vocab });
    expect(none.status).toBe('interpolated');
    expect(none.words.map((w) => [w.start, w.end])).toEqual([[1, 1.5], [1.5, 2]]);
    const nan = peaked('a_b');
    nan[4] = NaN;
    const bad = alignSegment({ segment: { text: 'ab', start: 0, end: 3 }, logits: nan, frames: 3, vocab });
    expect(bad.status).toBe('interpolated');
    expect(bad.reason).toMatch(/NaN/);
  });

  it('impossible emissions (-Infinity everywhere for a letter) interpolate instead of failing', () => {
    const logits = peaked('a_b');
    for (let t = 0; t < 3; t++) logits[t * vocab.size + id('c')] = -Infinity;
    const out = alignSegment({ segment: { text: 'ac', start: 0, end: 3 }, logits, frames: 3, vocab });
    expect(out.status).toBe('interpolated');
    expect(out.words[0]).toMatchObject({ start: 0, end: 3, interpolated: true });
  });

  it('survives broken segment times', () => {
    const out = alignSegment({ segment: { text: 'ab', start: NaN, end: 5 }, logits: peaked('ab'), frames: 2, vocab });
    expect(out.words[0]).toMatchObject({ start: 0, end: 5 });
    const back = alignSegment({ segment: { text: 'ab c', start: 5, end: 4 }, logits: peaked('ab|c'), frames: 4, vocab });
    expect(back.words.every((w) => w.start === 5 && w.end === 5)).toBe(true);
  });

  it('throws only for programmer errors', () => {
    const input: AlignmentInput = { segment: { text: 'a', start: 0, end: 1 }, logits: new Float32Array(5), frames: 1, vocab };
    expect(() => alignSegment(input)).toThrow(/logits.length/);
    expect(() => alignSegment({ ...input, frames: -1 })).toThrow(RangeError);
    expect(() => alignSegment({ ...input, vocab: { ...vocab, blankId: 99 } })).toThrow(/blankId/);
  });
});

describe('interpolateWords', () => {
  it('spreads a run evenly between its aligned neighbours', () => {
    const starts = Float64Array.from([0, 0, 0, 8]);
    const ends = Float64Array.from([2, 0, 0, 9]);
    interpolateWords(starts, ends, Uint8Array.from([1, 0, 0, 1]), [1, 5, 1, 1], 0, 10);
    expect(Array.from(starts)).toEqual([0, 2, 5, 8]);
    expect(Array.from(ends)).toEqual([2, 5, 8, 9]);
  });

  it('uses the segment edges for runs at either end', () => {
    const starts = Float64Array.from([0, 4, 0]);
    const ends = Float64Array.from([0, 6, 0]);
    interpolateWords(starts, ends, Uint8Array.from([0, 1, 0]), [1, 1, 1], 2, 10);
    expect(Array.from(starts)).toEqual([2, 4, 6]);
    expect(Array.from(ends)).toEqual([4, 6, 10]);
  });
});

/**
 * Best path score by enumeration (tiny sizes only): each token is first emitted at its change frame;
 * until the next token's change frame it stays, emitting blank or repeating itself (whichever is
 * likelier); the path ends at a frame where the last token was emitted and trailing frames are blank.
 */
function bruteForceBest(lp: Float32Array, T: number, W: number, blank: number, columns: number[]): number {
  let best = -Infinity;
  const L = columns.length;
  const frames: number[] = [];
  const stayScore = (t: number, col: number) => Math.max(lp[t * W + blank], lp[t * W + col]);
  const walk = (k: number, from: number): void => {
    if (k === L) {
      let prefix = 0;
      for (let t = 0; t < frames[0]; t++) prefix += lp[t * W + blank];
      for (let c = 0; c < L; c++) {
        prefix += lp[frames[c] * W + columns[c]];
        if (c + 1 < L) for (let t = frames[c] + 1; t < frames[c + 1]; t++) prefix += stayScore(t, columns[c]);
      }
      const last = columns[L - 1];
      let stays = 0;
      for (let e = frames[L - 1] + 1; e <= T; e++) {
        if (e - 1 > frames[L - 1]) stays += stayScore(e - 1, last);
        const emitted = e - 1 === frames[L - 1] || lp[(e - 1) * W + last] > lp[(e - 1) * W + blank];
        if (!emitted) continue;
        let trailing = 0;
        for (let t = e; t < T; t++) trailing += lp[t * W + blank];
        best = Math.max(best, prefix + stays + trailing);
      }
      return;
    }
    for (let t = from; t <= T - (L - k); t++) {
      frames.push(t);
      walk(k + 1, t + 1);
      frames.pop();
    }
  };
  walk(0, 0);
  return best;
}

describe('forcedAlign: properties', () => {
  it('finds the optimal path (brute force on tiny trellises) and consistent spans', () => {
    const V = 5;
    const sizes = fc
      .record({ T: fc.integer({ min: 1, max: 8 }), L: fc.integer({ min: 1, max: 5 }) })
      .filter(({ T, L }) => L <= T);
    const cases = sizes.chain(({ T, L }) =>
      fc.record({
        T: fc.constant(T),
        logits: fc.float32Array({ minLength: T * V, maxLength: T * V, min: -8, max: 8, noNaN: true, noDefaultInfinity: true }),
        tokens: fc.array(fc.integer({ min: -1, max: V - 1 }).filter((x) => x !== 0), { minLength: L, maxLength: L }),
      }),
    );
    fc.assert(
      fc.property(cases, ({ T, logits, tokens }) => {
        const em = computeEmissions(logits, T, V, 0, true);
        if (!em) throw new Error('finite logits must give emissions');
        const columns = tokens.map((t) => (t < 0 ? V : t));
        const res = forcedAlign(em, Int32Array.from(columns));
        if (!res.ok) throw new Error(res.reason);
        const expected = bruteForceBest(em.logProbs, T, em.width, 0, columns);
        expect(res.spans.logProb).toBeCloseTo(expected, 9);
        // the spans are ordered, non-overlapping, each at least one frame, scores are probabilities
        const { start, end, score } = res.spans;
        columns.forEach((_col, k) => {
          expect(end[k]).toBeGreaterThan(start[k]);
          if (k > 0) expect(start[k]).toBeGreaterThanOrEqual(end[k - 1]);
          expect(score[k]).toBeGreaterThanOrEqual(0);
          expect(score[k]).toBeLessThanOrEqual(1);
        });
        expect(end[columns.length - 1]).toBeLessThanOrEqual(T);
      }),
      { numRuns: 300 },
    );
  });
});

describe('alignSegment: properties', () => {
  const alphabet = fc.constantFrom(...Array.from('abcotz  AB1,.!|你好é\u00a0😀'));
  const text = fc.oneof(
    fc.string({ unit: alphabet, maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constant(''),
  );
  const input = fc.record({
    text,
    frames: fc.integer({ min: 0, max: 60 }),
    start: fc.double({ min: 0, max: 1e5, noNaN: true }),
    duration: fc.oneof(fc.double({ min: 0, max: 60, noNaN: true }), fc.constant(0)),
    perCharacter: fc.boolean(),
    seed: fc.integer(),
  });

  it('always returns one sane word per word of the text', () => {
    fc.assert(
      fc.property(input, ({ text: t, frames, start, duration, perCharacter, seed }) => {
        const logits = new Float32Array(frames * vocab.size);
        let s = seed >>> 0;
        for (let i = 0; i < logits.length; i++) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          logits[i] = (s / 2 ** 32) * 20 - 10;
        }
        const end = start + duration;
        const out = alignSegment({ segment: { text: t, start, end }, logits, frames, vocab, perCharacter });
        const expected = perCharacter
          ? Array.from(t).filter((ch) => !/\s/u.test(ch))
          : t.split(/\s+/u).filter((w) => w.length > 0);
        expect(out.words.map((w) => w.word)).toEqual(expected);
        expect(out.words.map((w) => w.word)).toEqual(splitWords(t, perCharacter));
        let previous = start;
        for (const w of out.words) {
          for (const x of [w.start, w.end, w.score]) expect(Number.isNaN(x)).toBe(false);
          expect(w.start).toBeGreaterThanOrEqual(previous);
          expect(w.end).toBeGreaterThanOrEqual(w.start);
          expect(w.start).toBeGreaterThanOrEqual(start);
          expect(w.end).toBeLessThanOrEqual(end);
          expect(w.score).toBeGreaterThanOrEqual(0);
          expect(w.score).toBeLessThanOrEqual(1);
          previous = w.start;
        }
        const interpolated = out.words.filter((w) => w.interpolated).length;
        if (out.status === 'ok') expect(interpolated).toBe(0);
        if (out.status === 'partial') expect(interpolated).toBeGreaterThan(0);
        if (out.status === 'interpolated') expect(interpolated).toBe(out.words.length);
        if (out.status !== 'ok') expect(out.reason).toBeTruthy();
        if (frames === 0 && out.words.length > 0) expect(out.status).toBe('interpolated');
      }),
      { numRuns: 500 },
    );
  });
});
