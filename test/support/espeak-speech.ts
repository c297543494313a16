import { spawnSync } from 'node:child_process';

const OUTPUT_RATE = 16_000;
/**
 * The speech is the 10 ms frames within this many dB of the loudest one. Not an absolute level:
 * some voices (en-us+f3) end in a −63 dBFS breath tail, 50 dB under the vowels, that an amplitude
 * threshold counts or not by a hair.
 */
const EXTENT_BELOW_PEAK_DB = 40;
/** Windowed-sinc half-width in input samples: plenty for a test signal, cheap with a phase table. */
const HALF_TAPS = 24;
// jest's sandbox makes global lookups slow in hot loops
const { sin, cos, floor, round, PI } = Math;

export interface EspeakOptions {
  /** espeak-ng voice (default en-us) */
  voice?: string;
  /** words per minute (espeak default 175) */
  speed?: number;
  /** exact digital silence before / after the speech, in seconds */
  leadingSilence?: number;
  trailingSilence?: number;
  /** the executable; default espeak-ng from PATH */
  binary?: string;
}

export interface EspeakSpeech {
  /** 16 kHz mono */
  pcm: Float32Array;
  /** where the speech really is in `pcm`, in seconds: start of the first / end of the last 10 ms frame within 40 dB of the loudest */
  speechStart: number;
  speechEnd: number;
}

/** Synthesizes `text` with espeak-ng (through pipes only) as 16 kHz mono with exact silence padding. */
export function espeakSpeech(text: string, options: EspeakOptions = {}): EspeakSpeech {
  const args = ['--stdout', '-v', options.voice ?? 'en-us'];
  if (options.speed !== undefined) args.push('-s', String(options.speed));
  const run = spawnSync(options.binary ?? 'espeak-ng', [...args, text], { maxBuffer: 256 * 1024 * 1024 });
  if (run.error) {
    const missing = (run.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing ? 'espeak-ng is not installed (tests synthesize speech with it): apt-get install espeak-ng' : `espeak-ng failed: ${run.error.message}`);
  }
  if (run.status !== 0) throw new Error(`espeak-ng exited with ${run.status}: ${run.stderr.toString().trim()}`);
  const { samples, sampleRate } = parseStreamedWav(run.stdout);

  const { first, end } = speechExtent(samples, sampleRate);
  if (first < 0) throw new Error(`espeak-ng produced no audible speech for ${JSON.stringify(text)}`);

  const speech = resample(samples, sampleRate, OUTPUT_RATE);
  const lead = round((options.leadingSilence ?? 0) * OUTPUT_RATE);
  const trail = round((options.trailingSilence ?? 0) * OUTPUT_RATE);
  const pcm = new Float32Array(lead + speech.length + trail);
  pcm.set(speech, lead);
  return {
    pcm,
    speechStart: lead / OUTPUT_RATE + first / sampleRate,
    speechEnd: lead / OUTPUT_RATE + end / sampleRate,
  };
}

/** First sample and one past the last sample of the frames within EXTENT_BELOW_PEAK_DB of the loudest; −1 for silence. */
function speechExtent(samples: Float32Array, sampleRate: number): { first: number; end: number } {
  const frame = round(sampleRate / 100);
  const powers: number[] = [];
  for (let at = 0; at < samples.length; at += frame) {
    let energy = 0;
    const end = Math.min(samples.length, at + frame);
    for (let i = at; i < end; i++) energy += samples[i] * samples[i];
    powers.push(energy / (end - at));
  }
  const floor = powers.reduce((a, b) => Math.max(a, b), 0) * 10 ** (-EXTENT_BELOW_PEAK_DB / 10);
  const loud = powers.map((power) => power > 0 && power >= floor);
  const firstFrame = loud.indexOf(true);
  if (firstFrame < 0) return { first: -1, end: -1 };
  return { first: firstFrame * frame, end: Math.min(samples.length, (loud.lastIndexOf(true) + 1) * frame) };
}

/**
 * espeak-ng streams its WAV, so the header's sizes are placeholders (0x7ffff000): read the format
 * from `fmt ` and take everything after `data` as 16-bit mono samples.
 */
function parseStreamedWav(bytes: Buffer): { samples: Float32Array; sampleRate: number } {
  if (bytes.length < 44 || bytes.toString('ascii', 0, 4) !== 'RIFF') throw new Error('espeak-ng did not write a WAV to stdout');
  const fmt = bytes.indexOf('fmt ', 12, 'ascii');
  const channels = bytes.readUInt16LE(fmt + 10);
  const sampleRate = bytes.readUInt32LE(fmt + 12);
  const bits = bytes.readUInt16LE(fmt + 22);
  if (channels !== 1 || bits !== 16) throw new Error(`unexpected espeak-ng output: ${channels} channels, ${bits} bits`);
  const dataAt = bytes.indexOf('data', fmt, 'ascii') + 8;
  const samples = new Float32Array(floor((bytes.length - dataAt) / 2));
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(dataAt + 2 * i) / 32768;
  return { samples, sampleRate };
}

/**
 * Rational windowed-sinc (Hann) resampler: output n sits at input position n·from/to, and only
 * `to / gcd` distinct fractional phases exist, so their kernels are tabulated once.
 * Cut-off at 0.95 × the lower Nyquist keeps aliasing out of the 16 kHz result.
 */
export function resample(input: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return input.slice();
  const g = gcd(from, to);
  const up = to / g;
  const down = from / g;
  const cutoff = 0.95 * Math.min(1, to / from);
  const width = 2 * HALF_TAPS;
  const table = new Float32Array(up * width);
  for (let phase = 0; phase < up; phase++) {
    const frac = phase / up;
    let sum = 0;
    for (let k = 0; k < width; k++) {
      const x = k - HALF_TAPS + 1 - frac; // distance from tap k to the output position
      const sinc = x === 0 ? 1 : sin(PI * cutoff * x) / (PI * cutoff * x);
      const hann = 0.5 + 0.5 * cos((PI * x) / HALF_TAPS);
      table[phase * width + k] = cutoff * sinc * hann;
      sum += cutoff * sinc * hann;
    }
    // unit DC gain per phase
    for (let k = 0; k < width; k++) table[phase * width + k] /= sum;
  }
  const out = new Float32Array(floor(((input.length - 1) * up) / down) + 1);
  for (let n = 0; n < out.length; n++) {
    const base = floor((n * down) / up);
    const phase = n * down - base * up;
    const first = base - HALF_TAPS + 1;
    let acc = 0;
    for (let k = 0; k < width; k++) {
      const i = first + k;
      if (i >= 0 && i < input.length) acc += input[i] * table[phase * width + k];
    }
    out[n] = acc;
  }
  return out;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
