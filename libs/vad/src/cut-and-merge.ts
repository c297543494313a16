import { VAD_FRAME_SAMPLES, VAD_SAMPLE_RATE } from './silero-vad-model';
import { SpeechSegment, toSegment } from './speech-timestamps';

export interface CutAndMergeOptions {
  /** longest chunk handed to whisper, seconds; default 30 */
  chunkSeconds?: number;
  /**
   * a cut of a too-long segment falls in [minCutFraction, 1] × chunk after the piece's start;
   * default 0.5 (WhisperX searches the second half), so pieces are 15–30 s
   */
  minCutFraction?: number;
  sampleRate?: number;
  frameSamples?: number;
}

/** A stretch of speech to decode on its own (≤ 30 s, from cut & merge), in seconds on the original timeline. */
export interface SpeechChunk {
  start: number;
  end: number;
}

/** Consecutive speech pieces whisper transcribes as one window: start of the first to end of the last. */
export interface VadChunk {
  startSample: number;
  endSample: number;
  start: number;
  end: number;
  segments: SpeechSegment[];
}

/**
 * WhisperX's VAD cut & merge: segments longer than a chunk are cut at their least speech-like
 * frame, then neighbours are merged greedily while a chunk spans ≤ chunkSeconds.
 * Every output piece lies inside one input segment, the pieces tile the segments exactly, and
 * each piece is in exactly one chunk.
 */
export function cutAndMerge(segments: readonly SpeechSegment[], probs: ArrayLike<number>, options: CutAndMergeOptions = {}): VadChunk[] {
  return mergeSegments(cutLongSegments(segments, probs, options), options);
}

/**
 * Splits each segment longer than the chunk length. The cut point is the centre of the frame with
 * the lowest probability among frames whose centre lies in [start + minCutFraction·chunk,
 * start + chunk] (latest frame on ties, so pieces stay long); repeated on the remainder.
 * If no frame centre fits (chunks under ~2 frames, or probabilities missing) it cuts at start + chunk.
 */
export function cutLongSegments(segments: readonly SpeechSegment[], probs: ArrayLike<number>, options: CutAndMergeOptions = {}): SpeechSegment[] {
  const { sampleRate, frame, chunk } = geometry(options);
  const minCut = Math.max(1, Math.ceil(chunk * (options.minCutFraction ?? 0.5)));
  const half = frame / 2;
  const pieces: SpeechSegment[] = [];
  for (const segment of segments) {
    let start = segment.startSample;
    while (segment.endSample - start > chunk) {
      const lo = start + minCut;
      const hi = start + chunk;
      const firstFrame = Math.max(0, Math.ceil((lo - half) / frame));
      const lastFrame = Math.min(probs.length - 1, Math.floor((hi - half) / frame));
      let cut = hi;
      let lowest = Infinity;
      for (let f = firstFrame; f <= lastFrame; f++) {
        if (probs[f] <= lowest) {
          lowest = probs[f];
          cut = f * frame + half;
        }
      }
      pieces.push(toSegment(start, cut, sampleRate));
      start = cut;
    }
    pieces.push(toSegment(start, segment.endSample, sampleRate));
  }
  return pieces;
}

/**
 * Greedy merge in order: a piece joins the current chunk unless the chunk would then span more
 * than chunkSeconds (first start → this end). Pieces must each be ≤ chunk (cutLongSegments).
 */
export function mergeSegments(pieces: readonly SpeechSegment[], options: CutAndMergeOptions = {}): VadChunk[] {
  const { sampleRate, chunk } = geometry(options);
  const chunks: VadChunk[] = [];
  let current: SpeechSegment[] = [];
  const close = (): void => {
    if (current.length === 0) return;
    const startSample = current[0].startSample;
    const endSample = current[current.length - 1].endSample;
    chunks.push({ ...toSegment(startSample, endSample, sampleRate), segments: current });
    current = [];
  };
  let previousEnd = -Infinity;
  for (const piece of pieces) {
    if (piece.endSample - piece.startSample > chunk) throw new Error(`segment ${piece.start}–${piece.end} s is longer than a chunk; cut it first`);
    // a chunk's span is first start → last end, which needs ordered, non-overlapping pieces
    if (piece.startSample < previousEnd || piece.endSample < piece.startSample) throw new Error(`segments must be ordered and disjoint (at ${piece.start} s)`);
    previousEnd = piece.endSample;
    if (current.length > 0 && piece.endSample - current[0].startSample > chunk) close();
    current.push(piece);
  }
  close();
  return chunks;
}

function geometry(options: CutAndMergeOptions): { sampleRate: number; frame: number; chunk: number } {
  const sampleRate = options.sampleRate ?? VAD_SAMPLE_RATE;
  const frame = options.frameSamples ?? VAD_FRAME_SAMPLES;
  // floor: a chunk never exceeds chunkSeconds, even for fractional sample counts
  const chunk = Math.floor((options.chunkSeconds ?? 30) * sampleRate);
  if (!(chunk > 0)) throw new Error(`chunkSeconds must be positive, got ${options.chunkSeconds}`);
  return { sampleRate, frame, chunk };
}
