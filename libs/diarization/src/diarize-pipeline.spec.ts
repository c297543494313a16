/**
 * diarize() wiring with stand-in models: which fbank rows each local speaker's embedding is computed
 * from (pyannote 3.1's masked embeddings), the min_duration defaults, the assignment rule, and the
 * probe of the embedding model's minimum input.
 */
import { diarize, DiarizationModels, embeddingMinSamples } from './diarize';
import { SpeakerEmbeddingModel } from './embedding-model';
import { fbankFrameCount } from './fbank';
import { PYANNOTE_SEGMENTATION_GEOMETRY } from './segmentation-model';

const FRAMES = 589;
const FBANK_FRAMES = fbankFrameCount(PYANNOTE_SEGMENTATION_GEOMETRY.windowSamples); // 998
/** pyannote's powerset order: ∅, {0}, {1}, {2}, {0,1}, {0,2}, {1,2} */
const CLASS: Record<string, number> = { '': 0, '0': 1, '1': 2, '2': 3, '01': 4, '02': 5, '12': 6 };

/** Per window, per frame: the set of active local speakers ("", "0", "01", …). */
type Script = (window: number, frame: number) => string;

function fakeSegmentation(script: Script): DiarizationModels['segmentation'] {
  let windowsSeen = 0;
  return {
    geometry: PYANNOTE_SEGMENTATION_GEOMETRY,
    fixedBatch: null,
    name: 'scripted',
    async run(_windows: Float32Array, count: number) {
      const logProbs = new Float32Array(count * FRAMES * 7).fill(-30);
      for (let k = 0; k < count; k++) for (let f = 0; f < FRAMES; f++) logProbs[(k * FRAMES + f) * 7 + CLASS[script(windowsSeen + k, f)]] = 0;
      windowsSeen += count;
      return { logProbs, frames: FRAMES };
    },
  } as unknown as DiarizationModels['segmentation'];
}

interface EmbedCall {
  /** fbank rows given to the model (the stand-in fbank writes each row's index into bin 0) */
  rows: number[];
}

/**
 * An embedding model whose fbank row j holds j (bin 0) and the window's first sample (bin 1), and
 * whose embedding is a one-hot of that sample's value: the test's audio names the speaker.
 */
function fakeEmbedding(calls: EmbedCall[]): DiarizationModels['embedding'] {
  return {
    name: 'recording',
    features: { normalizeMean: false },
    fbank(samples: Float32Array) {
      const frames = fbankFrameCount(samples.length);
      const features = new Float32Array(frames * 80);
      for (let j = 0; j < frames; j++) {
        features[j * 80] = j;
        features[j * 80 + 1] = samples[0];
      }
      return { features, frames, bins: 80 };
    },
    async embedFeatures(features: Float32Array, frames: number) {
      if (frames === 0 || features.length / frames !== 80) throw new Error('bad input');
      const rows = Array.from({ length: frames }, (_, r) => features[r * 80]);
      calls.push({ rows });
      const e = new Float32Array(4);
      const voice = Math.round(features[1]);
      e[voice >= 0 && voice < 4 ? voice : 0] = 1;
      return e;
    },
  } as unknown as SpeakerEmbeddingModel;
}

/** fbank rows whose nearest segmentation frame is in [from, to). */
function rowsOf(from: number, to: number): number[] {
  return Array.from({ length: FBANK_FRAMES }, (_, j) => j).filter((j) => {
    const f = Math.floor((j * FRAMES) / FBANK_FRAMES);
    return f >= from && f < to;
  });
}

describe('diarize() with stand-in models', () => {
  it('embeds each local speaker from the whole window fbank, rows picked by its clean mask, or its full mask when clean speech is too short', async () => {
    // one 10 s window: speaker 0 on frames 0–299, speaker 1 on 250–588 (overlap 250–299),
    // speaker 2 only inside speaker 1's speech on 400–402 (no clean frame at all)
    const script: Script = (_w, f) => {
      const on = [f < 300 ? '0' : '', f >= 250 ? '1' : '', f >= 400 && f < 403 ? '2' : ''].join('');
      return on;
    };
    const calls: EmbedCall[] = [];
    const pcm = new Float32Array(160_000);
    const result = await diarize(pcm, { segmentation: fakeSegmentation(script), embedding: fakeEmbedding(calls) }, { embeddingMinSamples: 400 });
    expect(result.windows).toBe(1);
    expect(calls.map((c) => c.rows)).toEqual([
      rowsOf(0, 250), // speaker 0: clean frames only
      [...rowsOf(300, 400), ...rowsOf(403, 589)], // speaker 1: clean frames only (speaker 2 overlaps 400–402)
      rowsOf(400, 403), // speaker 2: 0 clean frames ≤ min_num_frames (2) → all 3 of its frames
    ]);
    expect(result.embeddings).toBe(3);
  });

  it('with a longer embedding minimum (1680 samples → min_num_frames 7, ≥ 9 fbank rows) the fallback comes sooner and too little speech gives no embedding', async () => {
    // speaker 1 on 97–106 over speaker 0's 0–99: 7 clean frames (100–106)
    const script: Script = (_w, f) => [f < 100 ? '0' : '', f >= 97 && f < 107 ? '1' : ''].join('');
    const lenient: EmbedCall[] = [];
    await diarize(new Float32Array(160_000), { segmentation: fakeSegmentation(script), embedding: fakeEmbedding(lenient) }, { embeddingMinSamples: 400 });
    expect(lenient.map((c) => c.rows)).toEqual([rowsOf(0, 97), rowsOf(100, 107)]); // 7 > 2: clean
    const strict: EmbedCall[] = [];
    await diarize(new Float32Array(160_000), { segmentation: fakeSegmentation(script), embedding: fakeEmbedding(strict) }, { embeddingMinSamples: 1680 });
    expect(strict.map((c) => c.rows)).toEqual([rowsOf(0, 97), rowsOf(97, 107)]); // 7 ≤ 7: full mask

    // speaker 1 with only 3 frames in all (97–99, overlapped): full mask → 5 fbank rows < 9 → no embedding
    const short: Script = (_w, f) => [f < 100 ? '0' : '', f >= 97 && f < 100 ? '1' : ''].join('');
    const none: EmbedCall[] = [];
    const r = await diarize(new Float32Array(160_000), { segmentation: fakeSegmentation(short), embedding: fakeEmbedding(none) }, { embeddingMinSamples: 1680 });
    expect(rowsOf(97, 100)).toHaveLength(5);
    expect(none.map((c) => c.rows)).toEqual([rowsOf(0, 97)]);
    expect(r.embeddings).toBe(1);
  });

  it('keeps short turns and short gaps by default (min_duration_on = min_duration_off = 0); 0.3 / 0.5 s on request', async () => {
    // one speaker: frames 100–299, a 6-frame gap (≈ 0.1 s), 306–499, and a lone 4-frame blip at 550
    const script: Script = (_w, f) => ((f >= 100 && f < 300) || (f >= 306 && f < 500) || (f >= 550 && f < 554) ? '0' : '');
    const models = { segmentation: fakeSegmentation(script), embedding: fakeEmbedding([]) };
    const plain = await diarize(new Float32Array(160_000), models, { embeddingMinSamples: 400 });
    expect(plain.turns).toHaveLength(3);
    const legacy = await diarize(new Float32Array(160_000), { ...models, segmentation: fakeSegmentation(script) }, { embeddingMinSamples: 400, minDurationOn: 0.3, minDurationOff: 0.5 });
    expect(legacy.turns).toHaveLength(1);
    expect(legacy.turns[0].end - legacy.turns[0].start).toBeGreaterThan(6);
  });

  it("probes the embedding model's minimum input once (pyannote's min_num_samples)", async () => {
    let runs = 0;
    const model = {
      features: { normalizeMean: false },
      fbank: (samples: Float32Array) => ({ features: new Float32Array(fbankFrameCount(samples.length) * 80), frames: fbankFrameCount(samples.length), bins: 80 }),
      async embedFeatures(_f: Float32Array, frames: number) {
        runs++;
        // like a ResNet with 8× time downsampling and std pooling: NaN below 9 frames
        return Float32Array.from([frames >= 9 ? 1 : NaN]);
      },
    } as unknown as SpeakerEmbeddingModel;
    expect(await embeddingMinSamples(model)).toBe(1680);
    const afterFirst = runs;
    expect(await embeddingMinSamples(model)).toBe(1680);
    expect(runs).toBe(afterFirst);
  });
});

describe('speaker-to-cluster assignment', () => {
  /**
   * Two windows, local speakers 0 and 1 alternating. Window 0: two voices, A (slot 0) and B (slot 1).
   * Window 1: both slots sound like A (slot 1 a little towards B), e.g. a segmentation that split one
   * voice. argmax (pyannote 3.1) gives both of window 1's slots to A, which then outvotes B wherever
   * the windows overlap; Hungarian must give window 1's slot 1 to B, so B stays a speaker.
   */
  it("argmax (pyannote 3.1's default) lets two local speakers of a window share a cluster; hungarian keeps them apart", async () => {
    const vectors = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [1, 0, 0, 0],
      [1, 0.3, 0, 0],
    ];
    let call = 0;
    const embedding = {
      name: 'by-slot',
      features: { normalizeMean: false },
      fbank: (samples: Float32Array) => ({ features: new Float32Array(fbankFrameCount(samples.length) * 80), frames: fbankFrameCount(samples.length), bins: 80 }),
      async embedFeatures() {
        return Float32Array.from(vectors[call++ % 4]);
      },
    } as unknown as SpeakerEmbeddingModel;
    // 11 s of audio → windows at 0 and 1 s; slots 0 and 1 alternate in 100-frame blocks
    const script: Script = (_w, f) => (Math.floor(f / 100) % 2 === 0 ? '0' : '1');
    const run = (assignment?: 'argmax' | 'hungarian') => {
      call = 0;
      return diarize(new Float32Array(176_000), { segmentation: fakeSegmentation(script), embedding }, { embeddingMinSamples: 400, minClusterSize: 1, assignment });
    };
    const speakers = (turns: { speaker: string }[]) => new Set(turns.map((t) => t.speaker)).size;
    expect(speakers((await run('argmax')).turns)).toBe(1);
    expect(speakers((await run('hungarian')).turns)).toBe(2);
    expect(speakers((await run()).turns)).toBe(1); // argmax by default
  });
});
