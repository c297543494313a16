/**
 * From overlapping windows with clustered local speakers to global speaker turns, the way
 * pyannote's SpeakerDiarization.reconstruct / to_diarization does it:
 *  1. every window adds its local activity to the global track of the cluster each local speaker
 *     was given (max when two local speakers share a cluster), averaged over covering windows;
 *  2. the number of speakers per frame is the rounded mean, over covering windows, of the number
 *     of active local speakers;
 *  3. each frame keeps its top-`count` global speakers; runs become turns, short gaps are merged
 *     and short turns dropped.
 * Windows are streamed: memory is frames × speakers, never frames × windows.
 */
import type { SpeakerTurn, TurnOptions, WindowActivity } from './diarization-types';

/** Output frame grid of a segmentation model, in samples. */
export interface FrameGeometry {
  sampleRate: number;
  /** hop between frames */
  step: number;
  /** receptive field (frame duration) */
  receptiveField: number;
}

/** pyannote/segmentation-3.0: 589 frames per 10 s window at 16 kHz. */
export const SEGMENTATION_3_FRAMES: FrameGeometry = { sampleRate: 16000, step: 270, receptiveField: 991 };

export interface StitchOptions extends TurnOptions {
  /** default SEGMENTATION_3_FRAMES */
  geometry?: FrameGeometry;
  /** local activity above which a local speaker counts as speaking for the speaker count; default 0.5 */
  activityThreshold?: number;
  /** cap on simultaneous speakers (pyannote applies max_speakers here) */
  maxSpeakersPerFrame?: number;
  /** audio duration in seconds: turns are clipped to it (the last window is zero-padded past the end) */
  duration?: number;
}

export interface AggregatedActivity {
  /** frames × speakers: each global speaker's activity averaged over the windows covering the frame */
  activity: Float32Array;
  /** speakers talking in each frame */
  count: Uint8Array;
  frames: number;
  speakers: number;
}

export interface StitchResult {
  /** sorted by start, then end */
  turns: SpeakerTurn[];
  /** label given to each cluster id; null for a cluster that ended up with no turn */
  clusterSpeakers: (string | null)[];
}

export function speakerLabel(index: number): string {
  return `SPEAKER_${String(index).padStart(2, '0')}`;
}

/** Centre of global frame `frame`, seconds (pyannote's SlidingWindow middle). */
export function frameCentre(frame: number, geometry: FrameGeometry = SEGMENTATION_3_FRAMES): number {
  return (frame * geometry.step + geometry.receptiveField / 2) / geometry.sampleRate;
}

/** Global index of a window's first frame: pyannote's closest_frame(window start). */
export function windowFirstFrame(start: number, geometry: FrameGeometry = SEGMENTATION_3_FRAMES): number {
  return Math.round((start * geometry.sampleRate) / geometry.step);
}

/**
 * Window starts (seconds) pyannote's Inference.slide uses for `samples` of audio: every `step`,
 * plus one last zero-padded window when the audio does not end on the grid (or is shorter than one).
 */
export function slidingWindowStarts(samples: number, sampleRate = 16000, windowSeconds = 10, stepSeconds = 1): number[] {
  const size = Math.round(windowSeconds * sampleRate);
  const hop = Math.round(stepSeconds * sampleRate);
  if (samples <= 0) return [];
  if (samples < size) return [0];
  const full = Math.floor((samples - size) / hop) + 1;
  const starts = Array.from({ length: full }, (_, k) => (k * hop) / sampleRate);
  if ((samples - size) % hop > 0) starts.push((full * hop) / sampleRate);
  return starts;
}

/** Local aliases: global `Math` lookups in per-frame loops are slow inside vm sandboxes (jest). */
const { round, min } = Math;

/** numpy's rint for x ≥ 0: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Streams the windows into per-frame sums. labels[w·L + s] is the cluster of local speaker s of
 * window w (L local speakers per window), or -1 when it has none (inactive, no embedding).
 */
export function aggregateWindows(windows: readonly WindowActivity[], labels: Int32Array, options: StitchOptions = {}): AggregatedActivity {
  const geometry = options.geometry ?? SEGMENTATION_3_FRAMES;
  const threshold = options.activityThreshold ?? 0.5;
  const local = windows.length > 0 ? windows[0].speakers : 0;
  if (labels.length !== windows.length * local) throw new RangeError(`labels must be windows × local speakers (${windows.length}×${local})`);
  let speakers = 0;
  for (const l of labels) if (l + 1 > speakers) speakers = l + 1;
  let frames = 0;
  for (const w of windows) {
    if (w.speakers !== local) throw new RangeError('all windows must have the same number of local speakers');
    if (w.activity.length !== w.frames * w.speakers) throw new RangeError('window activity is not frames × speakers');
    frames = Math.max(frames, windowFirstFrame(w.start, geometry) + w.frames);
  }

  const sum = new Float32Array(frames * speakers);
  const covered = new Uint16Array(frames);
  const activeSum = new Float32Array(frames);
  // clusters present in the current window, and for each the local slots mapped to it
  const clusterIds = new Int32Array(local);
  const slotStart = new Int32Array(local + 1);
  const slots = new Int32Array(local);
  windows.forEach((w, wi) => {
    const first = windowFirstFrame(w.start, geometry);
    let present = 0;
    let filled = 0;
    for (let s = 0; s < local; s++) {
      const k = labels[wi * local + s];
      if (k < 0) continue;
      let seen = false;
      for (let p = 0; p < present; p++) if (clusterIds[p] === k) seen = true;
      if (seen) continue;
      clusterIds[present] = k;
      slotStart[present] = filled;
      for (let t = s; t < local; t++) if (labels[wi * local + t] === k) slots[filled++] = t;
      present++;
    }
    slotStart[present] = filled;
    const act = w.activity;
    for (let i = 0; i < w.frames; i++) {
      const g = first + i;
      if (g < 0) continue;
      const row = i * local;
      covered[g]++;
      let active = 0;
      for (let s = 0; s < local; s++) if (act[row + s] > threshold) active++;
      activeSum[g] += active;
      for (let p = 0; p < present; p++) {
        let v = 0;
        for (let q = slotStart[p]; q < slotStart[p + 1]; q++) {
          const a = act[row + slots[q]];
          if (a > v) v = a;
        }
        sum[g * speakers + clusterIds[p]] += v;
      }
    }
  });

  const cap = Math.min(speakers, options.maxSpeakersPerFrame ?? Infinity, 255);
  const count = new Uint8Array(frames);
  for (let g = 0; g < frames; g++) {
    const n = covered[g];
    if (n === 0) continue;
    count[g] = min(roundHalfEven(activeSum[g] / n), cap);
    for (let k = 0; k < speakers; k++) sum[g * speakers + k] /= n;
  }
  return { activity: sum, count, frames, speakers };
}

/**
 * Per frame, marks the `count` speakers with the highest aggregated activity (ties → lower id).
 * Unlike pyannote, a speaker with zero activity is never marked just to fill the count.
 */
export function selectTopSpeakers(agg: AggregatedActivity): Uint8Array {
  const { activity, count, frames, speakers } = agg;
  const binary = new Uint8Array(frames * speakers);
  for (let g = 0; g < frames; g++) {
    const row = g * speakers;
    for (let c = 0; c < count[g]; c++) {
      let best = -1;
      let bestV = 0;
      for (let k = 0; k < speakers; k++) {
        const v = activity[row + k];
        if (!binary[row + k] && v > bestV) {
          bestV = v;
          best = k;
        }
      }
      if (best < 0) break;
      binary[row + best] = 1;
    }
  }
  return binary;
}

interface RawTurn {
  start: number;
  end: number;
  cluster: number;
}

/**
 * Runs of active frames → turns (start at the first active frame's centre, end at the first
 * inactive frame's centre, as pyannote's Binarize), then same-speaker gaps < mergeGap are filled
 * and turns < minDurationOn dropped, in pyannote's order.
 */
export function binaryToTurns(binary: Uint8Array, frames: number, speakers: number, options: StitchOptions = {}): StitchResult {
  const geometry = options.geometry ?? SEGMENTATION_3_FRAMES;
  const minOn = options.minDurationOn ?? 0;
  const gap = options.mergeGap ?? 0;
  const duration = options.duration ?? Infinity;
  const raw: RawTurn[] = [];
  for (let k = 0; k < speakers; k++) {
    const own: RawTurn[] = [];
    let startFrame = -1;
    for (let g = 0; g <= frames; g++) {
      const on = g < frames && binary[g * speakers + k] === 1;
      if (on && startFrame < 0) startFrame = g;
      if (!on && startFrame >= 0) {
        const start = frameCentre(startFrame, geometry);
        const end = frameCentre(g < frames ? g : frames - 1, geometry);
        const last = own[own.length - 1];
        if (last && start - last.end < gap) last.end = end;
        else own.push({ start, end, cluster: k });
        startFrame = -1;
      }
    }
    for (const t of own) {
      t.end = Math.min(t.end, duration);
      if (t.end - t.start >= minOn) raw.push(t);
    }
  }
  raw.sort((a, b) => a.start - b.start || a.end - b.end || a.cluster - b.cluster);
  const clusterSpeakers: (string | null)[] = new Array<string | null>(speakers).fill(null);
  let next = 0;
  const turns = raw.map((t) => {
    let label = clusterSpeakers[t.cluster];
    if (label === null) {
      label = speakerLabel(next++);
      clusterSpeakers[t.cluster] = label;
    }
    return { start: t.start, end: t.end, speaker: label };
  });
  return { turns, clusterSpeakers };
}

/** Windows + per-(window, local speaker) clusters → speaker turns on the original timeline. */
export function stitchTurns(windows: readonly WindowActivity[], labels: Int32Array, options: StitchOptions = {}): StitchResult {
  const agg = aggregateWindows(windows, labels, options);
  return binaryToTurns(selectTopSpeakers(agg), agg.frames, agg.speakers, options);
}
