import { computeFbank, fbankFrameCount } from './fbank';
import { fbankFramesOfMask, minFbankFrames, minSegmentationFrames, probeMinNumSamples, probeNoise, selectRows, speakerMask, windowFbanks } from './masked-embedding';

const LOCAL = 3;

/** frames × 3 activity with local speaker s active on [from, to). */
function activity(frames: number, runs: Array<[s: number, from: number, to: number]>): Float32Array {
  const a = new Float32Array(frames * LOCAL);
  for (const [s, from, to] of runs) for (let f = from; f < to; f++) a[f * LOCAL + s] = 1;
  return a;
}

const onFrames = (mask: Uint8Array) => Array.from(mask.keys()).filter((f) => mask[f]);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('speakerMask (embedding_exclude_overlap)', () => {
  // speaker 0 on 0–9, speaker 1 on 5–14: overlap on 5–9
  const a = activity(20, [
    [0, 0, 10],
    [1, 5, 15],
  ]);

  it('uses the overlap-free frames when there are more than min_num_frames of them', () => {
    const m = speakerMask(a, 20, LOCAL, 0, 4);
    expect(m).toMatchObject({ clean: true, frames: 5 });
    expect(onFrames(m!.mask)).toEqual(range(0, 5));
    expect(onFrames(speakerMask(a, 20, LOCAL, 1, 4)!.mask)).toEqual(range(10, 15));
  });

  it('falls back to every active frame (overlap included) when clean speech is not longer than min_num_frames', () => {
    const m = speakerMask(a, 20, LOCAL, 0, 5); // 5 clean frames, not > 5
    expect(m).toMatchObject({ clean: false, frames: 10 });
    expect(onFrames(m!.mask)).toEqual(range(0, 10));
    // a speaker heard only in overlap
    const only = activity(20, [
      [0, 0, 20],
      [2, 8, 11],
    ]);
    expect(speakerMask(only, 20, LOCAL, 2, 0)).toMatchObject({ clean: false, frames: 3 });
  });

  it('gives nothing for a silent slot, and the whole speech with excludeOverlap = false', () => {
    expect(speakerMask(a, 20, LOCAL, 2, 0)).toBeNull();
    const all = speakerMask(a, 20, LOCAL, 0, 0, false);
    expect(all).toMatchObject({ clean: false, frames: 10 });
  });
});

describe('fbankFramesOfMask (torch nearest interpolation 589 → 998 frames)', () => {
  it('keeps fbank frame j when segmentation frame floor(j · 589 / 998) is on', () => {
    const mask = new Uint8Array(589);
    mask[0] = 1;
    expect(Array.from(fbankFramesOfMask(mask, 998))).toEqual([0, 1]);
    mask.fill(0);
    mask[3] = 1;
    expect(Array.from(fbankFramesOfMask(mask, 998))).toEqual([6]); // 6·0.590 = 3.54, 7·0.590 = 4.13
    mask.fill(0);
    mask[588] = 1;
    expect(Array.from(fbankFramesOfMask(mask, 998))).toEqual([997]);
    expect(fbankFramesOfMask(new Uint8Array(589).fill(1), 998)).toHaveLength(998);
    expect(fbankFramesOfMask(new Uint8Array(589), 998)).toHaveLength(0);
  });

  it('equals the exact integer rule on a random mask, and is the identity for equal lengths', () => {
    let seed = 7;
    const mask = Uint8Array.from({ length: 589 }, () => ((seed = (seed * 48271) % 2147483647) % 3 === 0 ? 1 : 0));
    const expected = range(0, 998).filter((j) => mask[Math.floor((j * 589) / 998)]);
    expect(Array.from(fbankFramesOfMask(mask, 998))).toEqual(expected);
    expect(Array.from(fbankFramesOfMask(Uint8Array.from([1, 0, 1]), 3))).toEqual([0, 2]);
  });

  it('selectRows copies the chosen rows', () => {
    const features = Float32Array.from(range(0, 12)); // 4 rows × 3 bins
    expect(Array.from(selectRows(features, 3, Int32Array.from([1, 3])))).toEqual([3, 4, 5, 9, 10, 11]);
  });
});

describe("pyannote's minimum lengths", () => {
  it('min_num_frames = ceil(589 · min_num_samples / 160000); the wrapper needs the fbank frames of min_num_samples', () => {
    expect(minSegmentationFrames(400, 589, 160_000)).toBe(2);
    expect(minSegmentationFrames(1680, 589, 160_000)).toBe(7);
    expect(minFbankFrames(400)).toBe(1);
    expect(minFbankFrames(1680)).toBe(9);
    expect(minFbankFrames(100)).toBe(1);
  });

  it('min_num_samples is bisected in [2, 8000] for the shortest input that embeds', async () => {
    const calls: number[] = [];
    const found = await probeMinNumSamples(async (n) => {
      calls.push(n);
      return fbankFrameCount(n) >= 9;
    });
    expect(found).toBe(1680);
    expect(calls.length).toBeLessThanOrEqual(13);
    expect(await probeMinNumSamples(async (n) => n >= 400)).toBe(400);
    expect(await probeMinNumSamples(async () => false)).toBe(8000);
  });

  it('probe noise is deterministic and in [-1, 1)', () => {
    const a = probeNoise(1000);
    expect(Array.from(a)).toEqual(Array.from(probeNoise(1000)));
    expect(Math.max(...a)).toBeLessThan(1);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-1);
  });
});

describe('windowFbanks (one fbank over overlapping windows)', () => {
  const pcm = probeNoise(12.5 * 16_000, 5).map((x, i) => 0.1 * x + 0.3 * Math.sin(i / 7)); // 12.5 s
  const perWindow = (start: number) => {
    const w = new Float32Array(160_000);
    w.set(pcm.subarray(start, Math.min(pcm.length, start + 160_000)));
    return computeFbank(w, { window: 'hamming', subtractMean: true });
  };

  it("equals each window's own mean-normalised fbank, the zero-padded last window included, from one fbank of the span", () => {
    const calls: number[] = [];
    const fbank = (x: Float32Array, mean: boolean) => {
      calls.push(x.length);
      return computeFbank(x, { window: 'hamming', subtractMean: mean });
    };
    const starts = [0, 16_000, 32_000, 48_000]; // the last two run past the audio's end
    const shared = windowFbanks(pcm, starts, 160_000, fbank, true);
    expect(calls).toEqual([48_000 + 160_000]);
    starts.forEach((start, k) => {
      const own = perWindow(start);
      expect(shared[k].frames).toBe(998);
      expect(shared[k].bins).toBe(own.bins);
      let max = 0;
      for (let i = 0; i < own.features.length; i++) max = Math.max(max, Math.abs(own.features[i] - shared[k].features[i]));
      expect(max).toBeLessThan(1e-3);
    });
  });

  it('computes window by window when starts are not whole frame shifts apart', () => {
    const calls: number[] = [];
    const fbank = (x: Float32Array, mean: boolean) => {
      calls.push(x.length);
      return computeFbank(x, { window: 'hamming', subtractMean: mean });
    };
    const shared = windowFbanks(pcm, [0, 16_080], 160_000, fbank, true);
    expect(calls).toEqual([160_000, 160_000]);
    expect(Array.from(shared[1].features.subarray(0, 80))).toEqual(Array.from(perWindow(16_080).features.subarray(0, 80)));
  });
});
