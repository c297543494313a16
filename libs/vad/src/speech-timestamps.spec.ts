import { speechSegments, SpeechTimestampOptions } from './speech-timestamps';

const FRAME = 512;
const PAD = 480; // 30 ms at 16 kHz

/** Probabilities from runs: [value, frames], ... */
function probs(...runs: Array<[number, number]>): Float32Array {
  const out: number[] = [];
  for (const [value, frames] of runs) for (let i = 0; i < frames; i++) out.push(value);
  return Float32Array.from(out);
}

function spans(p: Float32Array, options?: SpeechTimestampOptions): Array<[number, number]> {
  return speechSegments(p, options).map((s) => [s.startSample, s.endSample]);
}

describe('speechSegments (Silero get_speech_timestamps)', () => {
  it('starts at the first speech frame and ends where the silence began, padded by 30 ms', () => {
    expect(spans(probs([0, 10], [0.9, 20], [0, 10]))).toEqual([[10 * FRAME - PAD, 30 * FRAME + PAD]]);
  });

  it('reports seconds that are exactly samples / 16000', () => {
    const [segment] = speechSegments(probs([0, 10], [0.9, 20], [0, 10]));
    expect(segment.start).toBe(segment.startSample / 16_000);
    expect(segment.end).toBe(segment.endSample / 16_000);
  });

  it('drops speech no longer than 250 ms (strictly), keeps anything longer', () => {
    // 7 frames = 3584 samples ≤ 4000; 8 frames = 4096 > 4000
    expect(spans(probs([0, 10], [0.9, 7], [0, 10]))).toEqual([]);
    expect(spans(probs([0, 10], [0.9, 8], [0, 10]))).toEqual([[10 * FRAME - PAD, 18 * FRAME + PAD]]);
  });

  it('needs 100 ms of silence to split: a 4-frame gap is bridged, a 5-frame gap splits', () => {
    // the silence is only checked on silent frames: it reaches 1600 samples on its 5th frame (4 × 512 = 2048)
    expect(spans(probs([0, 10], [0.9, 20], [0, 4], [0.9, 20], [0, 10]))).toEqual([[10 * FRAME - PAD, 54 * FRAME + PAD]]);
    expect(spans(probs([0, 10], [0.9, 20], [0, 5], [0.9, 20], [0, 10]))).toEqual([
      [10 * FRAME - PAD, 30 * FRAME + PAD],
      [35 * FRAME - PAD, 55 * FRAME + PAD],
    ]);
  });

  it('hysteresis: in speech, frames between 0.35 and 0.5 neither end it nor restart the silence', () => {
    // a long stretch at 0.4 keeps speech going
    expect(spans(probs([0, 10], [0.9, 10], [0.4, 30], [0, 10]))).toEqual([[10 * FRAME - PAD, 50 * FRAME + PAD]]);
    // outside speech, 0.4 never starts it
    expect(spans(probs([0, 10], [0.4, 30], [0, 10]))).toEqual([]);
    // the silence starts at the first frame below 0.35 and 0.4 frames do not reset it: the segment ends there
    expect(spans(probs([0, 5], [0.9, 10], [0.2, 1], [0.4, 10], [0.2, 1], [0, 10]))).toEqual([[5 * FRAME - PAD, 15 * FRAME + PAD]]);
    // the speech threshold is inclusive (p ≥ 0.5), the silence threshold exclusive (p < neg); values
    // exact in float32 (Float32Array's 0.35 is 0.34999999, already below a double 0.35, as in Silero)
    expect(spans(probs([0, 5], [0.5, 10], [0.25, 10], [0.125, 10]), { negThreshold: 0.25 })).toEqual([[5 * FRAME - PAD, 25 * FRAME + PAD]]);
  });

  it('honours a custom neg threshold', () => {
    expect(spans(probs([0, 5], [0.9, 10], [0.4, 10], [0, 10]), { negThreshold: 0.45 })).toEqual([[5 * FRAME - PAD, 15 * FRAME + PAD]]);
  });

  it('clamps padding to the audio and ends open speech at totalSamples', () => {
    const totalSamples = 29 * FRAME + 100; // last frame partial
    expect(spans(probs([0.9, 30]), { totalSamples })).toEqual([[0, totalSamples]]);
    expect(() => speechSegments(probs([0.9, 30]), { totalSamples: 31 * FRAME })).toThrow(/totalSamples/);
  });

  it('splits the gap between neighbours closer than two pads', () => {
    // 100 ms pads (1600 samples): a 5-frame gap (2560 < 3200) is shared half and half
    const out = spans(probs([0, 10], [0.9, 20], [0, 5], [0.9, 20], [0, 10]), { speechPadMs: 100 });
    expect(out).toEqual([
      [10 * FRAME - 1600, 30 * FRAME + 1280],
      [35 * FRAME - 1280, 55 * FRAME + 1600],
    ]);
  });

  describe('max speech duration', () => {
    // 3 s, no pad → segments may grow to 48000 − 512 − 2 × 0 = 47488 samples (92.75 frames): frame 93 splits
    const options: SpeechTimestampOptions = { maxSpeechSeconds: 3, speechPadMs: 0 };
    // candidate silences: 7 frames at frame 20 (0.1 then 0.4s: never long enough below 0.35 to end speech),
    // 3 frames at 40 (96 ms: too short to be a candidate), 4 frames at 60
    const p = probs([0.9, 20], [0.1, 1], [0.4, 6], [0.9, 13], [0.1, 3], [0.9, 17], [0.1, 4], [0.9, 60]);

    it('cuts at the longest silence > 98 ms so far, and speech resumes where it ended (Silero default)', () => {
      expect(spans(p, options)).toEqual([
        [0, 20 * FRAME],
        // the next split comes 93 frames after 27, at the 4-frame silence that is left
        [27 * FRAME, 60 * FRAME],
        [64 * FRAME, p.length * FRAME],
      ]);
    });

    it("cuts at the most recent candidate with maxSpeechSplit 'last'", () => {
      expect(spans(p, { ...options, maxSpeechSplit: 'last' })).toEqual([
        [0, 60 * FRAME],
        [64 * FRAME, p.length * FRAME],
      ]);
    });

    it('cuts hard at the limit when there is no silence, dropping that one frame', () => {
      expect(spans(probs([0.9, 200]), options)).toEqual([
        [0, 93 * FRAME],
        [94 * FRAME, 187 * FRAME],
        [188 * FRAME, 200 * FRAME],
      ]);
    });
  });

  it('with the audio, tightens edges to its energy before padding (Silero ran 10 frames past the tone)', () => {
    // a 1 kHz tone over frames 10-29 in digital silence; Silero-like probabilities stay high to frame 40
    const audio = new Float32Array(50 * FRAME);
    for (let i = 10 * FRAME; i < 30 * FRAME; i++) audio[i] = 0.3 * Math.sin((2 * Math.PI * 1000 * i) / 16_000);
    const p = probs([0, 10], [0.9, 30], [0, 10]);
    expect(spans(p, { totalSamples: audio.length })).toEqual([[10 * FRAME - PAD, 40 * FRAME + PAD]]);
    expect(spans(p, { audio })).toEqual([[10 * FRAME - PAD, 30 * FRAME + PAD]]);
  });

  it('finds nothing in silence or in no frames at all', () => {
    expect(spans(probs([0, 100]))).toEqual([]);
    expect(spans(new Float32Array(0))).toEqual([]);
  });
});
