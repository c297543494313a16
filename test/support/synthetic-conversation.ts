/**
 * Multi-speaker "conversations" with exactly known turns, for the designed diarization models
 * (scripts/fixtures/segmentation-model.ts, embedding-model.ts). Each speaker is one of the synthetic
 * voices (distinct pitch and formant band) with syllable-rate loudness modulation and slow
 * intonation; overlapping turns are mixed, and a white noise floor stands in for the room.
 */
import { createNormal, createUniform } from '../../scripts/fixtures/prng';
import { PITCH_DRIFT, SYNTHETIC_VOICES, VOICE_SAMPLE_RATE, voiceHarmonics } from '../../scripts/fixtures/synthetic-voices';

export interface ScriptedTurn {
  /** voice index 0..speakers-1 (0: 110 Hz … 3: 330 Hz) */
  speaker: number;
  /** seconds */
  start: number;
  end: number;
}

export interface ConversationOptions {
  speakers: number;
  turns: readonly ScriptedTurn[];
  /** default 1 */
  seed?: number;
  /** RMS of a voice at a syllable peak, or one per voice (default 0.1) */
  amplitude?: number | readonly number[];
  /**
   * standard deviation of the white noise floor (default 0.003). Keep it above 0: the embedding model
   * reads timbre as the bins that follow the speaker's loudness rather than the noise floor.
   */
  noise?: number;
  sampleRate?: typeof VOICE_SAMPLE_RATE;
  /** total length, seconds (default: last turn end + 0.5 s) */
  duration?: number;
}

export interface ConversationTurn {
  /** "SPEAKER_00", … numbered in order of first appearance */
  speaker: string;
  /** the voice rendered (the scripted speaker index) */
  voice: number;
  start: number;
  end: number;
}

export interface Conversation {
  pcm: Float32Array;
  sampleRate: number;
  /** seconds */
  duration: number;
  /** sorted by start */
  turns: ConversationTurn[];
}

/** Syllables of 160–240 ms: 4.2–6.3 Hz, the syllable rate of speech. */
const SYLLABLE_MIN_S = 0.16;
const SYLLABLE_MAX_S = 0.24;
/**
 * Loudness between syllables, relative to the peak. Deep enough that the embedding sees the voice
 * rise and fall over the noise floor, shallow enough that every 62 ms segmentation frame inside a
 * turn still hears the speaker.
 */
const SYLLABLE_FLOOR = 0.3;
const EDGE_FADE_S = 0.015;

export const MAX_VOICES = SYNTHETIC_VOICES.length;

export function speakerLabel(index: number): string {
  return `SPEAKER_${String(index).padStart(2, '0')}`;
}

export function synthesizeConversation(options: ConversationOptions): Conversation {
  const sampleRate = options.sampleRate ?? VOICE_SAMPLE_RATE;
  if (sampleRate !== VOICE_SAMPLE_RATE) throw new RangeError(`only ${VOICE_SAMPLE_RATE} Hz is supported`);
  if (options.speakers < 1 || options.speakers > MAX_VOICES) throw new RangeError(`1..${MAX_VOICES} speakers`);
  const amplitudes = Array.from({ length: options.speakers }, (_, v) => {
    const a = options.amplitude ?? 0.1;
    return typeof a === 'number' ? a : (a[v] ?? 0.1);
  });
  const noise = options.noise ?? 0.003;
  const seed = options.seed ?? 1;
  const turns = [...options.turns].sort((a, b) => a.start - b.start || a.speaker - b.speaker);
  for (const t of turns) {
    if (!Number.isInteger(t.speaker) || t.speaker < 0 || t.speaker >= options.speakers) {
      throw new RangeError(`turn speaker ${t.speaker} outside 0..${options.speakers - 1}`);
    }
    if (!(t.start >= 0 && t.end > t.start)) throw new RangeError(`bad turn [${t.start}, ${t.end}]`);
  }
  const lastEnd = turns.reduce((m, t) => Math.max(m, t.end), 0);
  const duration = options.duration ?? lastEnd + 0.5;
  const pcm = new Float32Array(Math.round(duration * sampleRate));

  const uniform = createUniform(seed);
  turns.forEach((turn) => renderTurn(pcm, turn, amplitudes[turn.speaker], sampleRate, createUniform(Math.floor(uniform() * 2 ** 32))));
  if (noise > 0) {
    const normal = createNormal(seed ^ 0x5eed);
    for (let i = 0; i < pcm.length; i++) pcm[i] += noise * normal();
  }

  const labels = new Map<number, string>();
  const labelled = turns.map((t) => {
    if (!labels.has(t.speaker)) labels.set(t.speaker, speakerLabel(labels.size));
    return { speaker: labels.get(t.speaker) as string, voice: t.speaker, start: t.start, end: Math.min(t.end, duration) };
  });
  return { pcm, sampleRate, duration, turns: labelled };
}

/** Adds one turn: harmonics on a drifting f0, times a syllable envelope, faded at both ends. */
function renderTurn(pcm: Float32Array, turn: ScriptedTurn, amplitude: number, sr: number, uniform: () => number): void {
  const voice = SYNTHETIC_VOICES[turn.speaker];
  const harmonics = voiceHarmonics(voice);
  const phases = harmonics.map(() => 2 * Math.PI * uniform());
  const first = Math.round(turn.start * sr);
  const last = Math.min(pcm.length, Math.round(turn.end * sr));
  const n = last - first;
  if (n <= 0) return;

  const envelope = syllableEnvelope(n, sr, uniform);
  const fade = Math.round(EDGE_FADE_S * sr);
  const driftHz = 0.4 + 0.5 * uniform();
  const driftPhase = 2 * Math.PI * uniform();
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const f0 = voice.f0 * (1 + PITCH_DRIFT * Math.sin((2 * Math.PI * driftHz * i) / sr + driftPhase));
    phase += (2 * Math.PI * f0) / sr;
    let s = 0;
    for (let k = 0; k < harmonics.length; k++) s += harmonics[k].amplitude * Math.sin(harmonics[k].h * phase + phases[k]);
    let g = envelope[i];
    // Raised-cosine fades keep turn edges free of clicks (broadband energy would leak everywhere).
    if (i < fade) g *= 0.5 - 0.5 * Math.cos((Math.PI * i) / fade);
    if (n - 1 - i < fade) g *= 0.5 - 0.5 * Math.cos((Math.PI * (n - 1 - i)) / fade);
    pcm[first + i] += amplitude * g * s;
  }
}

/** Per-sample loudness: one sin² bump per syllable, rising from SYLLABLE_FLOOR to a random peak. */
function syllableEnvelope(n: number, sr: number, uniform: () => number): Float32Array {
  const env = new Float32Array(n);
  let i = 0;
  while (i < n) {
    const len = Math.round((SYLLABLE_MIN_S + (SYLLABLE_MAX_S - SYLLABLE_MIN_S) * uniform()) * sr);
    const peak = 0.75 + 0.25 * uniform();
    for (let j = 0; j < len && i + j < n; j++) {
      const bump = Math.sin((Math.PI * j) / len) ** 2;
      env[i + j] = SYLLABLE_FLOOR + (peak - SYLLABLE_FLOOR) * bump;
    }
    i += len;
  }
  return env;
}

export interface ConversationScriptOptions {
  speakers: number;
  /** total length, seconds */
  seconds: number;
  /** fraction of turns that start before the previous one ends (default 0.2) */
  overlapRatio?: number;
  /** turn length bounds, seconds (defaults 1 and 4) */
  minTurn?: number;
  maxTurn?: number;
  seed: number;
  /**
   * at most this many distinct speakers in any `windowSeconds` stretch (default 3, as pyannote's
   * segmentation has 3 local speakers per 10 s window; Infinity to allow any)
   */
  maxSpeakersPerWindow?: number;
  /** default 10 */
  windowSeconds?: number;
}

/**
 * A random but plausible turn schedule: turns of minTurn..maxTurn, short pauses, some overlaps of two
 * speakers (never three), no speaker following itself, and every speaker talks. Throws when `seconds`
 * is too short for everyone to get a turn under the per-window speaker limit.
 */
export function makeConversationScript(options: ConversationScriptOptions): ScriptedTurn[] {
  const { speakers, seconds, seed } = options;
  const overlapRatio = options.overlapRatio ?? 0.2;
  const minTurn = options.minTurn ?? 1;
  const maxTurn = options.maxTurn ?? 4;
  const maxPerWindow = options.maxSpeakersPerWindow ?? 3;
  const windowSeconds = options.windowSeconds ?? 10;
  if (speakers < 1 || speakers > MAX_VOICES) throw new RangeError(`1..${MAX_VOICES} speakers`);
  if (!(minTurn > 0 && maxTurn >= minTurn)) throw new RangeError('need 0 < minTurn <= maxTurn');
  const uniform = createUniform(seed);
  const between = (lo: number, hi: number) => lo + (hi - lo) * uniform();
  const round = (t: number) => Math.round(t * 1000) / 1000;

  const turns: ScriptedTurn[] = [];
  const talked = new Array<number>(speakers).fill(0);
  let cursor = between(0.3, 0.8);
  while (true) {
    const last = turns[turns.length - 1];
    const duration = between(minTurn, maxTurn);
    let start = cursor;
    const overlapping = last !== undefined && speakers > 1 && uniform() < overlapRatio;
    if (overlapping) {
      // The overlap stays inside the previous turn and clear of every earlier one: two voices at most.
      const earlierEnd = turns.slice(0, -1).reduce((m, t) => Math.max(m, t.end), 0);
      const lastLength = last.end - last.start;
      const overlap = Math.min(between(0.3, 1.2), lastLength - 0.5, duration - 0.5, last.end - earlierEnd - 0.3);
      if (overlap >= 0.3) start = last.end - overlap;
    } else if (last) {
      // Mostly short pauses, sometimes a longer silence.
      start = cursor + (uniform() < 0.1 ? between(1, 2) : between(0.15, 0.8));
    }
    const end = Math.min(start + duration, seconds - 0.3);
    if (end - start < Math.min(minTurn, 0.8)) break;

    const candidate = chooseSpeaker(turns, talked, start, windowSeconds, maxPerWindow, uniform);
    if (candidate === undefined) {
      // Nobody may speak yet without a 4th voice in one window: leave a pause and try later.
      cursor = start + 0.5;
      continue;
    }
    turns.push({ speaker: candidate, start: round(start), end: round(end) });
    talked[candidate] += end - start;
    cursor = Math.max(cursor, end);
  }
  const silent = talked.map((t, s) => (t > 0 ? -1 : s)).filter((s) => s >= 0);
  if (silent.length) throw new Error(`speakers ${silent.join(', ')} got no turn in ${seconds} s; make it longer`);
  return turns;
}

function chooseSpeaker(
  turns: readonly ScriptedTurn[],
  talked: readonly number[],
  start: number,
  windowSeconds: number,
  maxPerWindow: number,
  uniform: () => number,
): number | undefined {
  const last = turns[turns.length - 1];
  // Any window touching the new turn starts after start - windowSeconds: those speakers count.
  const recent = new Set(turns.filter((t) => t.end > start - windowSeconds).map((t) => t.speaker));
  const allowed = talked
    .map((_, s) => s)
    .filter((s) => s !== last?.speaker && (recent.has(s) || recent.size < maxPerWindow));
  if (!allowed.length) return undefined;
  const newcomers = allowed.filter((s) => talked[s] === 0);
  if (newcomers.length) return newcomers[Math.floor(uniform() * newcomers.length)];
  const waiting = talked.some((t) => t === 0);
  if (waiting) {
    // Someone has not spoken yet but may not join: keep to the two most recent speakers so the third
    // falls out of the window and makes room.
    const byRecency = [...turns].reverse().map((t) => t.speaker);
    const lastTwo = [...new Set(byRecency)].slice(0, 2);
    const keep = allowed.filter((s) => lastTwo.includes(s));
    if (keep.length) return keep[Math.floor(uniform() * keep.length)];
  }
  // Otherwise favour whoever has talked least, with some randomness.
  const weights = allowed.map((s) => 1 / (1 + talked[s]));
  let r = uniform() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < allowed.length; i++) {
    r -= weights[i];
    if (r <= 0) return allowed[i];
  }
  return allowed[allowed.length - 1];
}
