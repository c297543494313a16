import { tightenToEnergy } from './energy-edges';
import { VAD_FRAME_SAMPLES, VAD_SAMPLE_RATE } from './silero-vad-model';

/** A stretch of speech: samples [startSample, endSample) of the original audio, and the same in seconds. */
export interface SpeechSegment {
  startSample: number;
  endSample: number;
  /** startSample / sampleRate, unrounded */
  start: number;
  /** endSample / sampleRate, unrounded */
  end: number;
}

export interface SpeechTimestampOptions {
  /** a frame with probability ≥ this starts (or continues) speech; default 0.5 */
  threshold?: number;
  /** while in speech, only frames below this count as silence; default max(threshold − 0.15, 0.01) */
  negThreshold?: number;
  /** speech that ended (by silence) no longer than this is dropped; default 250 */
  minSpeechMs?: number;
  /** silence must last this long to end a segment; default 100 */
  minSilenceMs?: number;
  /** added on each side of every segment (halved where neighbours would overlap); default 30 */
  speechPadMs?: number;
  /** segments are split before exceeding this (see below); default Infinity */
  maxSpeechSeconds?: number;
  /** only silences longer than this are split candidates at max speech; default 98 */
  minSilenceAtMaxSpeechMs?: number;
  /** which candidate silence a too-long segment is split at; default 'longest' (Silero's default) */
  maxSpeechSplit?: 'longest' | 'last';
  /** length of the audio the probabilities came from; default audio.length, else probs.length × frameSamples */
  totalSamples?: number;
  /**
   * the audio the probabilities came from: when given, each segment's edges are tightened to where
   * the signal stands out from its background before padding (energy-edges.ts); without it, the
   * result is Silero's own
   */
  audio?: Float32Array;
  sampleRate?: number;
  frameSamples?: number;
}

/**
 * Silero's get_speech_timestamps (silero-vad 5.1/6) over precomputed per-frame probabilities.
 * Frame i covers samples [i·512, (i+1)·512); every boundary below is a frame start, then padded.
 *
 * - Speech starts at the first frame with p ≥ threshold.
 * - Hysteresis: in speech, only p < negThreshold starts a silence (frames between the two
 *   thresholds neither end nor restart it); the silence runs from its first such frame until a
 *   frame with p ≥ threshold. Once it has lasted ≥ minSilence, the segment ends at the silence's
 *   start, and is kept only if longer than minSpeech (strictly).
 * - maxSpeech: every silence longer than minSilenceAtMaxSpeech (98 ms: 4+ frames) inside the
 *   current segment is remembered. When the segment grows past
 *   maxSpeech − 1 frame − 2·pad, it is cut at the longest remembered silence ('longest') or the
 *   most recent one ('last', Silero's older behaviour): the segment ends where that silence
 *   started and the next begins where it ended. With no such silence it is cut hard at the
 *   current frame. Pieces made this way skip the minSpeech check, as in Silero.
 * - Speech still open at the end runs to totalSamples (if longer than minSpeech).
 * - With `audio`: edges move inward to the signal's energy (tightenToEnergy), then:
 * - Padding: `pad` on both sides, except that neighbours closer than 2·pad split the gap between
 *   them; clamped to [0, totalSamples].
 */
export function speechSegments(probs: ArrayLike<number>, options: SpeechTimestampOptions = {}): SpeechSegment[] {
  const sampleRate = options.sampleRate ?? VAD_SAMPLE_RATE;
  const frame = options.frameSamples ?? VAD_FRAME_SAMPLES;
  const threshold = options.threshold ?? 0.5;
  const negThreshold = options.negThreshold ?? Math.max(threshold - 0.15, 0.01);
  const totalSamples = options.totalSamples ?? options.audio?.length ?? probs.length * frame;
  if (totalSamples > probs.length * frame || totalSamples <= (probs.length - 1) * frame) {
    throw new Error(`totalSamples ${totalSamples} does not match ${probs.length} frames of ${frame}`);
  }
  const ms = (value: number): number => (sampleRate * value) / 1000;
  const minSpeech = ms(options.minSpeechMs ?? 250);
  const minSilence = ms(options.minSilenceMs ?? 100);
  const pad = ms(options.speechPadMs ?? 30);
  const minSilenceAtMax = ms(options.minSilenceAtMaxSpeechMs ?? 98);
  const maxSpeech = sampleRate * (options.maxSpeechSeconds ?? Infinity) - frame - 2 * pad;
  const useLongest = (options.maxSpeechSplit ?? 'longest') === 'longest';

  let spans: Array<{ start: number; end: number }> = [];
  let triggered = false;
  let start = 0;
  let silenceStart = -1; // Silero's temp_end; -1: not in a silence
  let candidates: Array<{ end: number; duration: number }> = [];

  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    const at = i * frame;
    if (p >= threshold && silenceStart >= 0) {
      if (at - silenceStart > minSilenceAtMax) candidates.push({ end: silenceStart, duration: at - silenceStart });
      silenceStart = -1;
    }
    if (p >= threshold && !triggered) {
      triggered = true;
      start = at;
      continue;
    }
    if (triggered && at - start > maxSpeech) {
      if (candidates.length > 0) {
        const cut = useLongest ? candidates.reduce((best, c) => (c.duration > best.duration ? c : best)) : candidates[candidates.length - 1];
        spans.push({ start, end: cut.end });
        // the silence has ended (it is a candidate), so speech resumed where it stopped
        start = cut.end + cut.duration;
        candidates = candidates.filter((c) => c.end > start);
        silenceStart = -1;
      } else {
        spans.push({ start, end: at });
        triggered = false;
        silenceStart = -1;
        candidates = [];
        continue;
      }
    }
    if (p < negThreshold && triggered) {
      if (silenceStart < 0) silenceStart = at;
      if (at - silenceStart < minSilence) continue;
      if (silenceStart - start > minSpeech) spans.push({ start, end: silenceStart });
      triggered = false;
      silenceStart = -1;
      candidates = [];
    }
  }
  if (triggered && totalSamples - start > minSpeech) spans.push({ start, end: totalSamples });

  if (options.audio) spans = tightenToEnergy(spans, options.audio, sampleRate);
  padSpans(spans, pad, totalSamples);
  return spans.map((s) => toSegment(s.start, s.end, sampleRate));
}

/** Silero's padding pass, in place; integer results as Python's int() / // give. */
function padSpans(spans: Array<{ start: number; end: number }>, pad: number, totalSamples: number): void {
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i];
    if (i === 0) span.start = Math.floor(Math.max(0, span.start - pad));
    if (i === spans.length - 1) {
      span.end = Math.floor(Math.min(totalSamples, span.end + pad));
      continue;
    }
    const next = spans[i + 1];
    const gap = next.start - span.end;
    if (gap < 2 * pad) {
      const half = Math.floor(gap / 2);
      span.end += half;
      next.start = Math.floor(Math.max(0, next.start - half));
    } else {
      span.end = Math.floor(Math.min(totalSamples, span.end + pad));
      next.start = Math.floor(Math.max(0, next.start - pad));
    }
  }
}

export function toSegment(startSample: number, endSample: number, sampleRate: number = VAD_SAMPLE_RATE): SpeechSegment {
  return { startSample, endSample, start: startSample / sampleRate, end: endSample / sampleRate };
}
