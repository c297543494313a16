/** A stretch of samples [start, end) of the audio. */
export interface SampleSpan {
  start: number;
  end: number;
}

export interface GateParameters {
  /** a frame must stand at least this far above its background's median, dB */
  minMargin: number;
  /** ...and never needs more than this, dB */
  maxMargin: number;
  /** frames this far below the span's loudest frame are never speech, dB */
  belowPeak: number;
  /** frames quieter than this (dBFS) are digital silence, not background: padding must not hide a real one */
  silence: number;
}

/** The gate the worker uses (the figures in the README were measured with it). */
export const EDGE_GATE: GateParameters = { minMargin: 6, maxMargin: 15, belowPeak: 45, silence: -70 };
/** energy frames */
const FRAME_MS = 10;
/** how far beside an edge its background is measured (never past the neighbouring span) */
const BACKGROUND_MS = 1000;
/** a span of which less than this stands out keeps its original edges */
const MIN_KEPT_MS = 100;
/** Fewer background frames than this (100 ms) can't say what the background is. */
const MIN_BACKGROUND_FRAMES = 10;

/**
 * Moves each span's edges inward to where the signal stands out from the background beside that
 * edge. Silero's recurrent state keeps p ≈ 1 for 50-400 ms after the last word (room reverberation,
 * breath, its own hangover), so its ends run late; its starts are within a frame or so.
 *
 * For each edge, the background is the frames between it and the neighbouring span (at most
 * BACKGROUND_MS), ignoring digital silence. A frame counts as speech when its energy reaches
 *   max(peak − belowPeak, median + clamp(minMargin + (p90 − median), minMargin, maxMargin))
 * — the margin grows with how much the background itself fluctuates, so a steady noise floor keeps
 * weak final consonants (a few dB above it) while a fluctuating one (crowd, applause) needs more.
 * With no measurable background (digital silence), only the `belowPeak` rule applies.
 * The new end is the end of the last such frame, the new start the start of the first; edges only
 * move inward, and a span of which less than MIN_KEPT_MS stands out is left as Silero made it
 * (speech in loud noise that doesn't stand out by energy is still speech).
 */
export function tightenToEnergy(spans: readonly SampleSpan[], pcm: Float32Array, sampleRate = 16_000): SampleSpan[] {
  const frame = Math.round((FRAME_MS * sampleRate) / 1000);
  const reach = Math.ceil((BACKGROUND_MS * sampleRate) / 1000 / frame);
  const minKept = (MIN_KEPT_MS * sampleRate) / 1000;
  const levels = frameLevels(pcm, frame);

  return spans.map((span, i) => {
    // frames overlapping the span
    const first = Math.floor(span.start / frame);
    const last = Math.min(levels.length, Math.ceil(span.end / frame)) - 1;
    if (last < first) return { ...span };
    const peak = max(levels, first, last + 1);
    const previousEnd = i > 0 ? Math.ceil(spans[i - 1].end / frame) : 0;
    const nextStart = i + 1 < spans.length ? Math.floor(spans[i + 1].start / frame) : levels.length;
    const before = levels.subarray(Math.max(previousEnd, first - reach), first);
    const after = levels.subarray(last + 1, Math.min(nextStart, last + 1 + reach));

    const startGate = edgeGate(before, peak, EDGE_GATE);
    const endGate = edgeGate(after, peak, EDGE_GATE);
    let from = first;
    while (from <= last && levels[from] < startGate) from++;
    let to = last;
    while (to >= from && levels[to] < endGate) to--;
    const start = Math.max(span.start, from * frame);
    const end = Math.min(span.end, (to + 1) * frame);
    return to < from || end - start < minKept ? { ...span } : { start, end };
  });
}

/** The level (dB) a frame must reach to be speech next to this background. */
export function edgeGate(background: Float32Array, peak: number, p: GateParameters): number {
  const floorGate = peak - p.belowPeak;
  const audible = background.filter((level) => level > p.silence).sort();
  if (audible.length < MIN_BACKGROUND_FRAMES) return floorGate;
  const median = quantile(audible, 0.5);
  const spread = quantile(audible, 0.9) - median;
  return Math.max(floorGate, median + Math.min(p.maxMargin, p.minMargin + spread));
}

/** Mean power per frame in dBFS (a partial last frame counts over its own length). */
export function frameLevels(pcm: Float32Array, frame: number): Float32Array {
  const count = Math.ceil(pcm.length / frame);
  const levels = new Float32Array(count);
  for (let f = 0; f < count; f++) {
    const from = f * frame;
    const to = Math.min(pcm.length, from + frame);
    let energy = 0;
    for (let i = from; i < to; i++) energy += pcm[i] * pcm[i];
    // 1e-10: digital silence reads −100 dBFS, not −Infinity
    levels[f] = 10 * Math.log10(energy / (to - from) + 1e-10);
  }
  return levels;
}

function quantile(sorted: Float32Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

function max(values: Float32Array, from: number, to: number): number {
  let best = -Infinity;
  for (let i = from; i < to; i++) if (values[i] > best) best = values[i];
  return best;
}
