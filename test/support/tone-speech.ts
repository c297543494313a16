/**
 * "Speech" for the designed tone CTC model (scripts/fixtures/tone-ctc-model.ts): each letter is its
 * tone, word gaps carry the "|" tone, and the exact ground-truth timings come back with the audio.
 */
import { createNormal, createUniform } from '../../scripts/fixtures/prng';
import { TONE_FREQUENCIES, TONE_SAMPLE_RATE, WORD_SEPARATOR } from '../../scripts/fixtures/tone-ctc-model';

export interface ToneSpeechOptions {
  sampleRate?: typeof TONE_SAMPLE_RATE;
  /** leading silence, seconds (default 0.3) */
  start?: number;
  /** trailing silence, seconds (default 0.3) */
  trailing?: number;
  /** per-character duration; a function is called once per character, in order (default 0.12) */
  charSeconds?: number | (() => number);
  /** "|" tone between words, seconds; 0 makes words abut (default 0.1) */
  gapSeconds?: number;
  /** peak amplitude of every tone (default 0.5) */
  amplitude?: number;
  /** seeds tone phases and noise (default 1) */
  seed?: number;
  /** standard deviation of added white noise (default 0) */
  noise?: number;
}

export interface TimedWord {
  word: string;
  /** seconds, sample-exact; cover all the word's characters, silent (wildcard) ones included */
  start: number;
  end: number;
}

export interface TimedChar {
  char: string;
  start: number;
  end: number;
  /** index into words; null for the "|" gap between words */
  wordIndex: number | null;
  /** tone rendered ("A".."Z", "'", "|"), or null when the character was rendered as silence */
  tone: string | null;
}

export interface ToneSpeech {
  pcm: Float32Array;
  sampleRate: number;
  /** seconds */
  duration: number;
  words: TimedWord[];
  chars: TimedChar[];
}

export interface WordSpan {
  words: string[];
  /** seconds on the output timeline */
  start: number;
  end: number;
}

export interface SpanPlacementOptions {
  /** silence kept inside each end of the span, seconds (default min(0.1, 5% of the span)) */
  margin?: number;
  /** gap tone length as a fraction of a character (default 0.75) */
  gapRatio?: number;
  /** longest character allowed; a short sentence then ends early in its span (default 0.2) */
  maxCharSeconds?: number;
}

export type SpanPlacement = Required<Pick<ToneSpeechOptions, 'start' | 'gapSeconds'>> & { charSeconds: number };

/** Shortest character the model is sure to see: one 25 ms window plus one 20 ms hop of slack. */
export const MIN_CHAR_SECONDS = 0.045;
const FADE_SECONDS = 0.005;

export function synthesizeToneSpeech(words: string[], options: ToneSpeechOptions = {}): ToneSpeech {
  const sampleRate = options.sampleRate ?? TONE_SAMPLE_RATE;
  const chars = layoutWords(words, options.start ?? 0.3, options.charSeconds ?? 0.12, options.gapSeconds ?? 0.1, 0);
  const last = chars.length ? chars[chars.length - 1].end : (options.start ?? 0.3);
  const total = Math.round((last + (options.trailing ?? 0.3)) * sampleRate);
  return render(words, chars, total, options);
}

/** Timing that fits `words` inside [spanStart, spanEnd] (pass it to synthesizeToneSpeech). */
export function placeWordsInSpan(
  words: string[],
  spanStart: number,
  spanEnd: number,
  options: SpanPlacementOptions = {},
): SpanPlacement {
  const margin = options.margin ?? Math.min(0.1, 0.05 * (spanEnd - spanStart));
  const gapRatio = options.gapRatio ?? 0.75;
  const units = words.reduce((n, w) => n + w.length, 0) + gapRatio * Math.max(0, words.length - 1);
  const available = spanEnd - spanStart - 2 * margin;
  const charSeconds = Math.min(options.maxCharSeconds ?? 0.2, available / Math.max(units, 1));
  if (charSeconds < MIN_CHAR_SECONDS) {
    throw new Error(`${units} characters do not fit in [${spanStart}, ${spanEnd}] s (${charSeconds.toFixed(3)} s each)`);
  }
  return { start: spanStart + margin, charSeconds, gapSeconds: gapRatio * charSeconds };
}

/** One waveform with each span's words fitted inside its time range (like whisper segments). */
export function synthesizeToneSegments(
  spans: WordSpan[],
  options: Omit<ToneSpeechOptions, 'start' | 'charSeconds' | 'gapSeconds'> & SpanPlacementOptions & { totalSeconds?: number } = {},
): ToneSpeech {
  const sampleRate = options.sampleRate ?? TONE_SAMPLE_RATE;
  const words: string[] = [];
  const chars: TimedChar[] = [];
  for (const span of spans) {
    const place = placeWordsInSpan(span.words, span.start, span.end, options);
    chars.push(...layoutWords(span.words, place.start, place.charSeconds, place.gapSeconds, words.length));
    words.push(...span.words);
  }
  const end = Math.max(options.totalSeconds ?? 0, ...spans.map((s) => s.end + (options.trailing ?? 0)));
  return render(words, chars, Math.round(end * sampleRate), options);
}

/** Sample-exact character (and gap) intervals, in seconds. */
function layoutWords(
  words: string[],
  start: number,
  charSeconds: number | (() => number),
  gapSeconds: number,
  firstWordIndex: number,
): TimedChar[] {
  const snap = (t: number): number => Math.round(t * TONE_SAMPLE_RATE) / TONE_SAMPLE_RATE;
  const duration = typeof charSeconds === 'number' ? () => charSeconds : charSeconds;
  const out: TimedChar[] = [];
  let cursor = start; // unrounded, so rounding errors do not accumulate
  words.forEach((word, w) => {
    if (w > 0 && gapSeconds > 0) {
      out.push({ char: WORD_SEPARATOR, start: snap(cursor), end: snap(cursor + gapSeconds), wordIndex: null, tone: WORD_SEPARATOR });
      cursor += gapSeconds;
    }
    for (const char of word) {
      const d = duration();
      out.push({ char, start: snap(cursor), end: snap(cursor + d), wordIndex: firstWordIndex + w, tone: toneOf(char) });
      cursor += d;
    }
  });
  return out;
}

/** Letters and "'" have tones (case-insensitive); anything else is silence. */
function toneOf(char: string): string | null {
  const upper = char.toUpperCase();
  return upper !== WORD_SEPARATOR && TONE_FREQUENCIES.has(upper) ? upper : null;
}

function render(words: string[], chars: TimedChar[], totalSamples: number, options: ToneSpeechOptions): ToneSpeech {
  const sampleRate = options.sampleRate ?? TONE_SAMPLE_RATE;
  const amplitude = options.amplitude ?? 0.5;
  const seed = options.seed ?? 1;
  const phase = createUniform(seed);
  const pcm = new Float32Array(totalSamples);
  for (const c of chars) {
    if (c.tone === null) continue;
    const freq = TONE_FREQUENCIES.get(c.tone) ?? 0;
    const from = Math.round(c.start * sampleRate);
    const to = Math.min(totalSamples, Math.round(c.end * sampleRate));
    const fade = Math.max(1, Math.min(Math.round(FADE_SECONDS * sampleRate), Math.floor((to - from) / 2)));
    const phi = 2 * Math.PI * phase();
    for (let n = from; n < to; n++) {
      // Raised-cosine fades at both ends avoid clicks (broadband energy at the boundaries).
      const edge = Math.min(n - from + 0.5, to - n - 0.5);
      const env = edge >= fade ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / fade);
      pcm[n] += amplitude * env * Math.sin((2 * Math.PI * freq * (n - from)) / sampleRate + phi);
    }
  }
  if (options.noise) {
    const normal = createNormal(seed ^ 0x5eed);
    for (let n = 0; n < totalSamples; n++) pcm[n] += options.noise * normal();
  }
  const timed = words.map((word, w) => {
    const own = chars.filter((c) => c.wordIndex === w);
    return { word, start: own.length ? own[0].start : 0, end: own.length ? own[own.length - 1].end : 0 };
  });
  return { pcm, sampleRate, duration: totalSamples / sampleRate, words: timed, chars };
}
