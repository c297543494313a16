import * as fc from 'fast-check';
import { cutAndMerge, cutLongSegments, mergeSegments, VadChunk } from './cut-and-merge';
import { speechSegments, SpeechSegment, toSegment } from './speech-timestamps';

const RATE = 16_000;
const FRAME = 512;
const seconds = (s: number): number => Math.round(s * RATE);

/** Throws on the first broken invariant of cut & merge (plain checks: expect() in hot loops is slow). */
function checkChunks(segments: readonly SpeechSegment[], probs: ArrayLike<number>, chunks: VadChunk[], chunkSeconds: number, minCutFraction = 0.5): void {
  const fail = (message: string): never => {
    throw new Error(message);
  };
  const limit = Math.floor(chunkSeconds * RATE);
  const minCut = Math.max(1, Math.ceil(limit * minCutFraction));
  const pieces = chunks.flatMap((c) => c.segments);
  // each piece in exactly one chunk, in order: the flattened chunks are the cut pieces themselves
  const cut = cutLongSegments(segments, probs, { chunkSeconds, minCutFraction });
  if (cut.length !== pieces.length || cut.some((c, i) => c.startSample !== pieces[i].startSample || c.endSample !== pieces[i].endSample)) fail('chunks do not hold the cut pieces in order');

  // the pieces tile the input segments exactly
  let p = 0;
  for (const segment of segments) {
    if (pieces[p].startSample !== segment.startSample) fail(`piece ${p} does not start segment ${segment.start}`);
    while (pieces[p].endSample !== segment.endSample) {
      const from = pieces[p].startSample;
      const cut = pieces[p].endSample;
      if (pieces[p + 1].startSample !== cut) fail(`gap after piece ${p}`);
      if (cut >= segment.endSample) fail(`piece ${p} overruns its segment`);
      // a cut lies in the allowed range...
      if (cut - from < minCut || cut - from > limit) fail(`cut ${cut} outside [${from + minCut}, ${from + limit}]`);
      // ...at the centre of its least speech-like frame, the latest of equals (cut at the range end only if no frame fits)
      const firstFrame = Math.ceil((from + minCut - FRAME / 2) / FRAME);
      const lastFrame = Math.min(probs.length - 1, Math.floor((from + limit - FRAME / 2) / FRAME));
      if (firstFrame <= lastFrame) {
        const f = (cut - FRAME / 2) / FRAME;
        if (!Number.isInteger(f)) fail(`cut ${cut} is not a frame centre`);
        for (let g = firstFrame; g <= lastFrame; g++) {
          if (g < f && probs[g] < probs[f]) fail(`frame ${g} is lower than the cut frame ${f}`);
          if (g > f && probs[g] <= probs[f]) fail(`frame ${g} is as low as the cut frame ${f}, and later`);
        }
      } else if (cut !== from + limit) fail(`cut ${cut} without candidate frames is not at the range end`);
      p++;
    }
    p++;
  }
  if (p !== pieces.length) fail('pieces left over');

  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i];
    if (chunk.segments.length === 0) fail(`chunk ${i} is empty`);
    if (chunk.startSample !== chunk.segments[0].startSample || chunk.endSample !== chunk.segments[chunk.segments.length - 1].endSample) fail(`chunk ${i} does not span its pieces`);
    if (chunk.endSample - chunk.startSample > limit) fail(`chunk ${i} is longer than ${chunkSeconds} s`);
    if (chunk.start !== chunk.startSample / RATE || chunk.end !== chunk.endSample / RATE) fail(`chunk ${i} seconds are not samples / rate`);
    if (i > 0) {
      if (chunk.startSample < chunks[i - 1].endSample) fail(`chunk ${i} overlaps the previous one`);
      // greedy: the first piece of this chunk would not have fitted in the previous one
      if (chunk.segments[0].endSample - chunks[i - 1].startSample <= limit) fail(`chunk ${i} could have been merged`);
    }
  }
}

/** Probabilities as runs of a level, like real VAD output: mostly near 0 or 1, sometimes in between. */
const probabilityRuns = fc
  .array(fc.record({ level: fc.integer({ min: 0, max: 100 }), frames: fc.integer({ min: 1, max: 400 }), jitter: fc.integer({ min: 0, max: 20 }) }), { minLength: 1, maxLength: 30 })
  .map((runs) => {
    const out: number[] = [];
    for (const { level, frames, jitter } of runs) {
      for (let i = 0; i < frames; i++) out.push(Math.min(1, Math.max(0, (level + ((i * 7919) % (jitter + 1)) - jitter / 2) / 100)));
    }
    return Float32Array.from(out);
  });

/** Arbitrary ordered, disjoint segments (up to 3 min long) over a random probability track. */
const looseSegments = fc
  .record({
    shape: fc.array(fc.record({ gap: fc.integer({ min: 0, max: seconds(20) }), length: fc.integer({ min: 1, max: seconds(180) }) }), { maxLength: 12 }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
    levels: fc.integer({ min: 2, max: 1000 }),
  })
  .map(({ shape, seed, levels }) => {
    let at = 0;
    const segments = shape.map(({ gap, length }) => {
      const segment = toSegment(at + gap, at + gap + length);
      at = segment.endSample;
      return segment;
    });
    // long tracks from a seed: generating them element by element in fast-check is slow; few levels → many ties
    let state = seed;
    const probs = new Float32Array(Math.ceil(at / FRAME) + 1);
    for (let i = 0; i < probs.length; i++) {
      state = (state * 48271) % 2147483647;
      probs[i] = (state % levels) / (levels - 1);
    }
    return { segments, probs };
  });

describe('cutAndMerge (WhisperX VAD cut & merge)', () => {
  it('holds its invariants on Silero segments of random probability tracks', () => {
    fc.assert(
      fc.property(probabilityRuns, fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 200 }), (probs, chunkSeconds, padMs) => {
        const segments = speechSegments(probs, { speechPadMs: padMs });
        checkChunks(segments, probs, cutAndMerge(segments, probs, { chunkSeconds }), chunkSeconds);
      }),
      { numRuns: 300 },
    );
  });

  it('holds its invariants on arbitrary long segments, chunk lengths and cut ranges', () => {
    fc.assert(
      fc.property(looseSegments, fc.double({ min: 0.5, max: 30, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), ({ segments, probs }, chunkSeconds, minCutFraction) => {
        checkChunks(segments, probs, cutAndMerge(segments, probs, { chunkSeconds, minCutFraction }), chunkSeconds, minCutFraction);
      }),
      { numRuns: 200 },
    );
  });

  it('cuts a 70 s continuous segment at its lowest-probability frames inside each allowed range', () => {
    const frames = Math.ceil(seconds(70) / FRAME);
    const probs = new Float32Array(frames).fill(0.95);
    const dip = (at: number, p: number): number => {
      const f = Math.floor(seconds(at) / FRAME);
      probs[f] = p;
      return f * FRAME + FRAME / 2; // the frame's centre: where a cut there lands
    };
    dip(10, 0.51); // lowest of all, but in the first 15 s: outside the first range [15, 30] s
    dip(20, 0.6);
    const first = dip(27, 0.55);
    dip(45, 0.7);
    const second = dip(52, 0.6);
    dip(60, 0.51); // after the second range [42, 57] s
    // still one segment for Silero: no frame drops below 0.35
    expect(speechSegments(probs, { speechPadMs: 0 }).map((s) => [s.startSample, s.endSample])).toEqual([[0, frames * FRAME]]);

    const speech = [toSegment(0, seconds(70)), toSegment(seconds(72), seconds(75)), toSegment(seconds(76), seconds(80)), toSegment(seconds(100), seconds(101))];
    const chunks = cutAndMerge(speech, probs);
    expect(chunks.map((c) => c.segments.map((s) => [s.startSample, s.endSample]))).toEqual([
      [[0, first]],
      [[first, second]],
      // 52 → 80 s is 28 s: the short segments after join the last piece
      [[second, seconds(70)], [seconds(72), seconds(75)], [seconds(76), seconds(80)]],
      [[seconds(100), seconds(101)]],
    ]);
    expect(chunks.map((c) => [c.start, c.end])).toEqual([
      [0, first / RATE],
      [first / RATE, second / RATE],
      [second / RATE, 80],
      [100, 101],
    ]);
    checkChunks(speech, probs, chunks, 30);
  });

  it('cuts at the range end when chunks are too short for a frame centre to fit', () => {
    // 20 ms chunks (320 samples): the range [160, 320] after a piece's start may hold no 512-sample frame centre
    const speech = [toSegment(0, 2000)];
    const probs = new Float32Array(4).fill(0.9);
    const chunks = cutAndMerge(speech, probs, { chunkSeconds: 0.02 });
    checkChunks(speech, probs, chunks, 0.02);
    expect(chunks[0].segments.map((s) => [s.startSample, s.endSample])).toEqual([[0, 256]]);
    expect(chunks[1].segments.map((s) => [s.startSample, s.endSample])).toEqual([[256, 576]]);
  });

  it('merges greedily while the span from first start to last end stays ≤ 30 s', () => {
    const speech = [toSegment(seconds(1), seconds(5)), toSegment(seconds(10), seconds(20)), toSegment(seconds(25), seconds(31)), toSegment(seconds(31), seconds(40))];
    expect(mergeSegments(speech).map((c) => [c.start, c.end, c.segments.length])).toEqual([
      [1, 31, 3],
      [31, 40, 1],
    ]);
    expect(mergeSegments([])).toEqual([]);
  });

  it('refuses pieces longer than a chunk or out of order', () => {
    expect(() => mergeSegments([toSegment(0, seconds(31))])).toThrow(/longer than a chunk/);
    expect(() => mergeSegments([toSegment(seconds(5), seconds(6)), toSegment(seconds(1), seconds(2))])).toThrow(/ordered/);
  });
});
