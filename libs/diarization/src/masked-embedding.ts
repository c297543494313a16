/**
 * Speaker embeddings the way pyannote 3.1 computes them (SpeakerDiarization.get_embeddings with
 * embedding_exclude_overlap=True, and the ONNX WeSpeaker wrapper's masked call):
 *  - the fbank is computed once over the whole 10 s chunk (mean-normalised over the chunk);
 *  - each local speaker's mask is its clean frames (active, nobody else active) when there are more
 *    than `min_num_frames` of them, else all its active frames (overlapped speech included);
 *  - the mask (segmentation frames) is stretched onto the fbank frames by nearest-neighbour
 *    interpolation (torch's F.interpolate(mode="nearest")) and the fbank rows it keeps are embedded;
 *  - fewer kept rows than the model's minimum → no embedding (pyannote: NaN).
 * For ONNX models without a mask input this is the masked statistics pooling of pyannote's PyTorch
 * WeSpeaker, minus the convolution context across masked-out frames.
 */
import { Fbank, fbankFrameCount, subtractFrameMean } from './fbank';

/** Which mask a local speaker's embedding uses, and its frames (1 = used). */
export interface SpeakerMask {
  mask: Uint8Array;
  /** true: overlap-free frames; false: the fallback to every active frame */
  clean: boolean;
  frames: number;
}

/**
 * pyannote's min_num_frames: the segmentation frames that `minNumSamples` of audio span, rounded up
 * (ceil(frames · min_num_samples / window samples)). Clean speech must exceed it to be used alone.
 */
export function minSegmentationFrames(minNumSamples: number, frames: number, windowSamples: number): number {
  return Math.ceil((frames * minNumSamples) / windowSamples);
}

/** Fbank frames of `minNumSamples` audio (pyannote's wrapper min_num_frames): fewer kept rows → no embedding. */
export function minFbankFrames(minNumSamples: number): number {
  return Math.max(1, fbankFrameCount(minNumSamples));
}

/**
 * The mask of local speaker `s` (activity: frames × speakers, active ≥ 0.5): its clean frames when
 * there are more than `minFrames`, else all its active frames; null when it never speaks.
 * excludeOverlap=false uses every active frame (pyannote's embedding_exclude_overlap=False).
 */
export function speakerMask(activity: Float32Array, frames: number, speakers: number, s: number, minFrames: number, excludeOverlap = true): SpeakerMask | null {
  const mask = new Uint8Array(frames);
  const clean = new Uint8Array(frames);
  let active = 0;
  let alone = 0;
  for (let f = 0; f < frames; f++) {
    const row = f * speakers;
    if (!(activity[row + s] >= 0.5)) continue;
    mask[f] = 1;
    active++;
    let others = 0;
    for (let o = 0; o < speakers; o++) if (o !== s && activity[row + o] >= 0.5) others++;
    if (others === 0) {
      clean[f] = 1;
      alone++;
    }
  }
  if (active === 0) return null;
  if (excludeOverlap && alone > minFrames) return { mask: clean, clean: true, frames: alone };
  return { mask, clean: false, frames: active };
}

/**
 * Indices of the fbank frames a segmentation-frame mask keeps: fbank frame j reads mask frame
 * floor(j · maskFrames / fbankFrames), in float32 as torch's nearest interpolation does.
 */
export function fbankFramesOfMask(mask: Uint8Array, fbankFrames: number): Int32Array {
  const inFrames = mask.length;
  const out = new Int32Array(fbankFrames);
  let kept = 0;
  if (inFrames === 0) return out.subarray(0, 0);
  const fround = Math.fround;
  const scale = fround(inFrames / fbankFrames);
  for (let j = 0; j < fbankFrames; j++) {
    const src = inFrames === fbankFrames ? j : Math.min(Math.floor(fround(j * scale)), inFrames - 1);
    if (mask[src]) out[kept++] = j;
  }
  return out.subarray(0, kept);
}

/** The rows `frames` of a frames × bins matrix, copied into a new one. */
export function selectRows(features: Float32Array, bins: number, frames: Int32Array): Float32Array {
  const out = new Float32Array(frames.length * bins);
  for (let r = 0; r < frames.length; r++) out.set(features.subarray(frames[r] * bins, (frames[r] + 1) * bins), r * bins);
  return out;
}

/**
 * pyannote's min_num_samples: the shortest input (in [2, sampleRate / 2]) for which `works` says
 * the model gives an embedding, found by the same bisection (random input; a too-short fbank or a
 * non-finite embedding counts as failure).
 */
export async function probeMinNumSamples(works: (samples: number) => Promise<boolean>, sampleRate = 16_000): Promise<number> {
  let lower = 2;
  let upper = Math.round(0.5 * sampleRate);
  while (lower + 1 < upper) {
    const middle = Math.floor((lower + upper) / 2);
    if (await works(middle)) upper = middle;
    else lower = middle;
  }
  return upper;
}

/** Deterministic noise in [-1, 1) for the probe (so the probe is reproducible). */
export function probeNoise(samples: number, seed = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = a / 2 ** 31 - 1;
  }
  return out;
}

/**
 * The fbank of each window (`windowSamples` from each start, zero-padded past the audio), as
 * `fbank(window audio)` with per-window mean normalisation would give, but computed once over the
 * windows' contiguous span when every start is a whole number of frame shifts after the first
 * (windows every second: 100 frames): Kaldi frames depend only on their own 400 samples, so a
 * window's frames are rows of the span's, and only the mean is per window. Overlapping 10 s windows
 * every 1 s then cost one fbank of their span instead of ten.
 */
export function windowFbanks(
  pcm: Float32Array,
  starts: readonly number[],
  windowSamples: number,
  fbank: (samples: Float32Array, subtractMean: boolean) => Fbank,
  subtractMean: boolean,
  frameLength = 400,
  frameShift = 160,
): Fbank[] {
  if (starts.length === 0) return [];
  const first = starts[0];
  const aligned = starts.every((s) => (s - first) % frameShift === 0 && s >= first);
  const windowAudio = (start: number) => {
    const w = new Float32Array(windowSamples);
    if (start < pcm.length) w.set(pcm.subarray(start, Math.min(pcm.length, start + windowSamples)));
    return w;
  };
  if (!aligned || starts.length === 1) return starts.map((s) => fbank(windowAudio(s), subtractMean));
  const end = Math.max(...starts) + windowSamples;
  const span = new Float32Array(end - first);
  if (first < pcm.length) span.set(pcm.subarray(first, Math.min(pcm.length, end)));
  const all = fbank(span, false);
  const frames = fbankFrameCount(windowSamples, frameLength, frameShift);
  return starts.map((s) => {
    const row = (s - first) / frameShift;
    const features = all.features.slice(row * all.bins, (row + frames) * all.bins);
    if (subtractMean) subtractFrameMean(features, frames, all.bins);
    return { features, frames, bins: all.bins };
  });
}
