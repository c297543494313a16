import fc from 'fast-check';
import { diarizationErrorRate } from '@app/testing';
import type { SpeakerTurn, WindowActivity } from './diarization-types';
import { SEGMENTATION_3_FRAMES, aggregateWindows, frameCentre, slidingWindowStarts, stitchTurns, windowFirstFrame } from './stitching';

const FRAMES = 589;
const LOCAL = 3;

/** One window whose local speaker s is active on the given frame ranges [from, to). */
function window(start: number, runs: Array<[slot: number, from: number, to: number]>, frames = FRAMES): WindowActivity {
  const activity = new Float32Array(frames * LOCAL);
  for (const [slot, from, to] of runs) for (let i = from; i < to; i++) activity[i * LOCAL + slot] = 1;
  return { start, activity, frames, speakers: LOCAL };
}

/**
 * Windows (10 s every 1 s) seen by a perfect segmentation of known turns: in each window the
 * speakers present get local slots in a shuffled order, as a real model would.
 */
function windowsFromTruth(truth: SpeakerTurn[], seconds: number, speakers: string[]): { windows: WindowActivity[]; labels: Int32Array } {
  const starts = slidingWindowStarts(seconds * 16000);
  const labels = new Int32Array(starts.length * LOCAL).fill(-1);
  const windows = starts.map((start, w) => {
    const time = (i: number) => start + (i * 270 + 991 / 2) / 16000;
    const present = speakers.filter((s) => truth.some((t) => t.speaker === s && t.end > start && t.start < start + 10));
    const rotation = w % LOCAL;
    const slots = present.map((_, i) => (i + rotation) % LOCAL);
    const activity = new Float32Array(FRAMES * LOCAL);
    present.forEach((speaker, p) => {
      labels[w * LOCAL + slots[p]] = speakers.indexOf(speaker);
      for (let i = 0; i < FRAMES; i++) {
        const t = time(i);
        if (truth.some((x) => x.speaker === speaker && x.start <= t && t < x.end)) activity[i * LOCAL + slots[p]] = 1;
      }
    });
    return { start, activity, frames: FRAMES, speakers: LOCAL };
  });
  return { windows, labels };
}

describe('window grid', () => {
  it('places windows like pyannote (last one zero-padded when the audio is off the grid)', () => {
    expect(slidingWindowStarts(25 * 16000)).toEqual(Array.from({ length: 16 }, (_, k) => k));
    expect(slidingWindowStarts(25.5 * 16000)).toEqual(Array.from({ length: 17 }, (_, k) => k));
    expect(slidingWindowStarts(5 * 16000)).toEqual([0]);
    expect(slidingWindowStarts(0)).toEqual([]);
  });

  it('maps window frames onto the global grid: 1 s → frame round(16000/270) = 59', () => {
    expect(windowFirstFrame(1)).toBe(59);
    expect(windowFirstFrame(10)).toBe(593);
    expect(frameCentre(0)).toBeCloseTo(495.5 / 16000, 12);
    expect(frameCentre(100)).toBeCloseTo((27000 + 495.5) / 16000, 12);
  });
});

describe('stitchTurns', () => {
  it('one window, one speaker: turn from the first active frame centre to the first inactive one (hand-computed)', () => {
    const { turns, clusterSpeakers } = stitchTurns([window(0, [[0, 100, 400]])], Int32Array.from([0, -1, -1]));
    expect(turns).toHaveLength(1);
    expect(turns[0].speaker).toBe('SPEAKER_00');
    expect(turns[0].start).toBeCloseTo(1.71846875, 9);
    expect(turns[0].end).toBeCloseTo(6.78096875, 9);
    expect(clusterSpeakers).toEqual(['SPEAKER_00']);
  });

  it('labels speakers by first appearance, whatever their cluster ids', () => {
    const w = window(0, [
      [0, 300, 500],
      [1, 50, 250],
    ]);
    const { turns, clusterSpeakers } = stitchTurns([w], Int32Array.from([0, 2, -1]));
    expect(turns.map((t) => t.speaker)).toEqual(['SPEAKER_00', 'SPEAKER_01']);
    expect(turns[0].start).toBeLessThan(turns[1].start);
    expect(clusterSpeakers).toEqual(['SPEAKER_01', null, 'SPEAKER_00']);
  });

  it('drops turns shorter than minDurationOn and merges same-speaker gaps shorter than mergeGap', () => {
    // 10 frames ≈ 0.17 s (dropped); gap of 20 frames ≈ 0.34 s (merged); gap of 40 frames ≈ 0.68 s (kept)
    const w = window(0, [
      [0, 10, 20],
      [0, 100, 200],
      [0, 220, 300],
      [0, 340, 400],
    ]);
    const { turns } = stitchTurns([w], Int32Array.from([0, -1, -1]), { minDurationOn: 0.3, mergeGap: 0.5 });
    expect(turns.map((t) => [t.start, t.end].map((x) => +x.toFixed(6)))).toEqual([
      [frameCentre(100), frameCentre(300)].map((x) => +x.toFixed(6)),
      [frameCentre(340), frameCentre(400)].map((x) => +x.toFixed(6)),
    ]);
    expect(stitchTurns([w], Int32Array.from([0, -1, -1]), { minDurationOn: 0, mergeGap: 0 }).turns).toHaveLength(4);
  });

  it('keeps every turn and gap by default (pyannote 3.1: min_duration_on = min_duration_off = 0)', () => {
    // a 1-frame turn and a 1-frame gap survive
    const w = window(0, [
      [0, 10, 11],
      [0, 100, 200],
      [0, 201, 300],
    ]);
    const { turns } = stitchTurns([w], Int32Array.from([0, -1, -1]));
    expect(turns.map((t) => [t.start, t.end].map((x) => +x.toFixed(6)))).toEqual([
      [frameCentre(10), frameCentre(11)].map((x) => +x.toFixed(6)),
      [frameCentre(100), frameCentre(200)].map((x) => +x.toFixed(6)),
      [frameCentre(201), frameCentre(300)].map((x) => +x.toFixed(6)),
    ]);
  });

  it('two local speakers given one cluster contribute their max, not their sum', () => {
    const w = window(0, [
      [0, 100, 200],
      [1, 150, 300],
    ]);
    const agg = aggregateWindows([w], Int32Array.from([0, 0, -1]));
    expect(agg.speakers).toBe(1);
    expect(agg.activity[175]).toBe(1);
    expect(agg.count[175]).toBe(1); // two active local speakers, but only one global speaker exists
    const { turns } = stitchTurns([w], Int32Array.from([0, 0, -1]));
    expect(turns).toHaveLength(1);
    expect(turns[0].start).toBeCloseTo(frameCentre(100), 9);
    expect(turns[0].end).toBeCloseTo(frameCentre(300), 9);
  });

  it('averages overlapping windows and rounds the speaker count half-to-even like numpy', () => {
    // window at 0 says cluster 0 speaks on global frames 100..400; window at 1 s (first frame 59) says nothing
    const a = window(0, [[0, 100, 400]]);
    const b = window(1, []);
    const agg = aggregateWindows([a, b], Int32Array.from([0, -1, -1, -1, -1, -1]));
    expect(agg.frames).toBe(59 + FRAMES);
    expect(agg.activity[80]).toBe(0); // frame 80 covered by both, speaker inactive
    expect(agg.activity[120]).toBeCloseTo(0.5, 6); // covered by both, active in one
    expect(agg.count[120]).toBe(0); // mean 0.5 → 0 (half to even)
    expect(agg.activity[50]).toBe(0);
    // with a third window agreeing, 2/3 → 1
    const c = window(0, [[1, 100, 400]]);
    const agg3 = aggregateWindows([a, b, c], Int32Array.from([0, -1, -1, -1, -1, -1, -1, 0, -1]));
    expect(agg3.count[120]).toBe(1);
  });

  it('caps the per-frame count at maxSpeakersPerFrame', () => {
    const w = window(0, [
      [0, 0, 300],
      [1, 0, 300],
    ]);
    expect(stitchTurns([w], Int32Array.from([0, 1, -1])).turns).toHaveLength(2);
    const capped = stitchTurns([w], Int32Array.from([0, 1, -1]), { maxSpeakersPerFrame: 1 });
    expect(capped.turns).toHaveLength(1);
  });

  it('clips turns to the audio duration', () => {
    const { turns } = stitchTurns([window(0, [[0, 0, FRAMES]])], Int32Array.from([0, -1, -1]), { duration: 5 });
    expect(turns[0].end).toBe(5);
  });

  it('rejects inconsistent shapes', () => {
    expect(() => stitchTurns([window(0, [])], new Int32Array(2))).toThrow(RangeError);
  });

  it('reconstructs known turns (with overlapped speech) from shuffled local slots, DER < 1 %', () => {
    const truth: SpeakerTurn[] = [
      { start: 0.5, end: 6.2, speaker: 'A' },
      { start: 5.4, end: 9.8, speaker: 'B' }, // 0.8 s overlap with A
      { start: 11, end: 17.3, speaker: 'C' },
      { start: 18.1, end: 24.6, speaker: 'A' },
      { start: 24, end: 31.5, speaker: 'B' },
      { start: 33, end: 38, speaker: 'C' },
    ];
    const { windows, labels } = windowsFromTruth(truth, 40, ['A', 'B', 'C']);
    const { turns } = stitchTurns(windows, labels, { duration: 40 });
    const der = diarizationErrorRate(truth, turns, { collar: 0 });
    expect(der.der).toBeLessThan(0.01);
    expect(new Set(turns.map((t) => t.speaker)).size).toBe(3);
    expect(turns[0].speaker).toBe('SPEAKER_00');
    expect(der.mapping.get('SPEAKER_00')).toBe('A');
  });

  it('property: turns are sorted, never overlap within a speaker, and last at least minDurationOn', () => {
    const run = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 580 }), fc.integer({ min: 1, max: 300 }));
    const win = fc.tuple(fc.integer({ min: 0, max: 6 }), fc.array(run, { maxLength: 6 }), fc.array(fc.integer({ min: -1, max: 3 }), { minLength: 3, maxLength: 3 }));
    fc.assert(
      fc.property(fc.array(win, { minLength: 1, maxLength: 6 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (spec, minDurationOn, mergeGap) => {
        const windows = spec.map(([start, runs]) => window(start, runs.map(([s, from, len]) => [s, from, Math.min(FRAMES, from + len)] as [number, number, number])));
        const labels = Int32Array.from(spec.flatMap(([, , l]) => l));
        const { turns } = stitchTurns(windows, labels, { minDurationOn, mergeGap, geometry: SEGMENTATION_3_FRAMES });
        for (let i = 1; i < turns.length; i++) expect(turns[i].start).toBeGreaterThanOrEqual(turns[i - 1].start);
        const bySpeaker = new Map<string, SpeakerTurn[]>();
        for (const t of turns) {
          expect(t.end - t.start).toBeGreaterThanOrEqual(minDurationOn);
          bySpeaker.set(t.speaker, [...(bySpeaker.get(t.speaker) ?? []), t]);
        }
        for (const list of bySpeaker.values()) {
          for (let i = 1; i < list.length; i++) expect(list[i].start - list[i - 1].end).toBeGreaterThanOrEqual(mergeGap);
        }
        // labels are SPEAKER_00.. in order of first appearance
        const order = [...new Set(turns.map((t) => t.speaker))];
        expect(order).toEqual(order.map((_, i) => `SPEAKER_${String(i).padStart(2, '0')}`));
      }),
      { numRuns: 200 },
    );
  });
});
