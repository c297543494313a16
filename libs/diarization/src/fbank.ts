/**
 * Kaldi-compatible log-mel filterbank (torchaudio.compliance.kaldi.fbank / kaldi-native-fbank), the
 * input of WeSpeaker and 3D-Speaker embedding models. Only snip_edges=true, dither=0,
 * use_energy=false, use_power=true and no VTLN: the settings those models are trained with.
 */

/** Module-level alias: inside a vm sandbox (jest) every `Math` lookup in a hot loop is slow. */
const log = Math.log;

/** Kaldi floors energies at FLT_EPSILON before the log. */
export const FLT_EPSILON = 1.1920928955078125e-7;

export type FbankWindow = 'povey' | 'hamming' | 'hanning' | 'rectangular';

export interface FbankOptions {
  /** default 16000 */
  sampleRate?: number;
  /** default 25 */
  frameLengthMs?: number;
  /** default 10 */
  frameShiftMs?: number;
  /** default 80 */
  numMelBins?: number;
  /** Hz, default 20 */
  lowFreq?: number;
  /** Hz; 0 = Nyquist, negative = offset below Nyquist (Kaldi convention); default 0 */
  highFreq?: number;
  /** default 0.97 */
  preemphasis?: number;
  /** default 'povey' */
  window?: FbankWindow;
  /** default true */
  removeDcOffset?: boolean;
  /** multiply [-1, 1] samples by 32768: Kaldi-trained models expect int16 magnitudes; default true */
  scaleToInt16?: boolean;
  /** per-utterance mean normalisation over frames, per bin (WeSpeaker does it); default false */
  subtractMean?: boolean;
}

export interface Fbank {
  /** frames × bins, row-major */
  features: Float32Array;
  frames: number;
  bins: number;
}

/** Kaldi's mel scale. */
export function melScale(hz: number): number {
  return 1127 * Math.log(1 + hz / 700);
}

/** Number of frames Kaldi produces with snip_edges=true. */
export function fbankFrameCount(samples: number, frameLength = 400, frameShift = 160): number {
  return samples < frameLength ? 0 : 1 + Math.floor((samples - frameLength) / frameShift);
}

/** Subtracts each bin's mean over the frames, in place (WeSpeaker's CMN; also for slices of a longer fbank). */
export function subtractFrameMean(features: Float32Array, frames: number, bins: number): Float32Array {
  if (frames === 0) return features;
  const mean = new Float64Array(bins);
  for (let t = 0; t < frames; t++) for (let b = 0; b < bins; b++) mean[b] += features[t * bins + b];
  for (let b = 0; b < bins; b++) mean[b] /= frames;
  for (let t = 0; t < frames; t++) for (let b = 0; b < bins; b++) features[t * bins + b] -= mean[b];
  return features;
}

interface MelFilter {
  /** first FFT bin with a non-zero weight */
  first: number;
  weights: Float64Array;
}

/** Frame-independent tables, built once per option set. */
class FbankPlan {
  readonly frameLength: number;
  readonly frameShift: number;
  readonly fftSize: number;
  readonly bins: number;
  readonly window: Float64Array;
  /** mel triangles flattened: weights of bin b are filterWeights[filterStart[b]..filterStart[b+1]) on FFT bins from filterFirst[b] */
  readonly filterFirst: Int32Array;
  readonly filterStart: Int32Array;
  readonly filterWeights: Float64Array;
  readonly preemphasis: number;
  readonly removeDc: boolean;
  readonly scale: number;
  readonly subtractMean: boolean;
  private readonly fft: RealFft;

  constructor(o: Required<FbankOptions>) {
    this.frameLength = Math.round((o.sampleRate * o.frameLengthMs) / 1000);
    this.frameShift = Math.round((o.sampleRate * o.frameShiftMs) / 1000);
    if (this.frameLength < 2 || this.frameShift < 1) throw new RangeError('frame length/shift too small');
    let n = 1;
    while (n < this.frameLength) n <<= 1;
    this.fftSize = Math.max(n, 4);
    this.bins = o.numMelBins;
    this.window = makeWindow(o.window, this.frameLength);
    const filters = makeMelFilters(o, this.fftSize);
    this.filterFirst = Int32Array.from(filters, (f) => f.first);
    this.filterStart = new Int32Array(filters.length + 1);
    filters.forEach((f, b) => (this.filterStart[b + 1] = this.filterStart[b] + f.weights.length));
    this.filterWeights = new Float64Array(this.filterStart[filters.length]);
    filters.forEach((f, b) => this.filterWeights.set(f.weights, this.filterStart[b]));
    this.preemphasis = o.preemphasis;
    this.removeDc = o.removeDcOffset;
    this.scale = o.scaleToInt16 ? 32768 : 1;
    this.subtractMean = o.subtractMean;
    this.fft = new RealFft(this.fftSize);
  }

  compute(samples: Float32Array): Fbank {
    const { frameLength: len, frameShift, bins, window, preemphasis: p, scale } = this;
    const { filterFirst, filterStart, filterWeights } = this;
    const frames = fbankFrameCount(samples.length, len, frameShift);
    const features = new Float32Array(frames * bins);
    const frame = new Float64Array(this.fftSize);
    const power = new Float64Array(this.fftSize / 2 + 1);
    const floor = FLT_EPSILON; // a local: the exported binding is a property load per use under CommonJS
    for (let t = 0; t < frames; t++) {
      const offset = t * frameShift;
      let sum = 0;
      for (let i = 0; i < len; i++) sum += samples[offset + i];
      const mean = this.removeDc ? (sum * scale) / len : 0;
      // DC removal, preemphasis (x[-1] := x[0], as Kaldi) and window fused in one pass:
      // (x[i] - m) - p·(x[i-1] - m) = x[i] - p·x[i-1] - m·(1 - p)
      const bias = mean * (1 - p);
      let prev = samples[offset] * scale;
      frame[0] = (prev - mean) * (1 - p) * window[0];
      for (let i = 1; i < len; i++) {
        const v = samples[offset + i] * scale;
        frame[i] = (v - p * prev - bias) * window[i];
        prev = v;
      }
      this.fft.powerSpectrum(frame, power); // frame[len..] stays zero from allocation
      const row = t * bins;
      for (let b = 0; b < bins; b++) {
        const first = filterFirst[b] - filterStart[b];
        let e = 0;
        for (let k = filterStart[b], end = filterStart[b + 1]; k < end; k++) e += filterWeights[k] * power[first + k];
        features[row + b] = log(e > floor ? e : floor);
      }
    }
    if (this.subtractMean) subtractFrameMean(features, frames, bins);
    return { features, frames, bins };
  }
}

function makeWindow(kind: FbankWindow, n: number): Float64Array {
  const w = new Float64Array(n);
  const a = (2 * Math.PI) / (n - 1);
  for (let i = 0; i < n; i++) {
    const c = Math.cos(a * i);
    if (kind === 'povey') w[i] = Math.pow(0.5 - 0.5 * c, 0.85);
    else if (kind === 'hamming') w[i] = 0.54 - 0.46 * c;
    else if (kind === 'hanning') w[i] = 0.5 - 0.5 * c;
    else w[i] = 1;
  }
  return w;
}

/** Triangles in the mel domain over FFT bins 0..fftSize/2-1 (Kaldi leaves the Nyquist bin out). */
function makeMelFilters(o: Required<FbankOptions>, fftSize: number): MelFilter[] {
  const nyquist = o.sampleRate / 2;
  const high = o.highFreq > 0 ? o.highFreq : nyquist + o.highFreq;
  if (o.lowFreq < 0 || high > nyquist || high <= o.lowFreq) throw new RangeError(`bad mel range ${o.lowFreq}..${high}`);
  const melLow = melScale(o.lowFreq);
  const delta = (melScale(high) - melLow) / (o.numMelBins + 1);
  const binWidth = o.sampleRate / fftSize;
  const filters: MelFilter[] = [];
  for (let b = 0; b < o.numMelBins; b++) {
    const left = melLow + b * delta;
    const center = left + delta;
    const right = center + delta;
    let first = -1;
    const w: number[] = [];
    for (let k = 0; k < fftSize / 2; k++) {
      const mel = melScale(binWidth * k);
      if (mel > left && mel < right) {
        if (first < 0) first = k;
        // bins strictly inside a triangle are contiguous, so padding gaps never happens
        w.push(mel <= center ? (mel - left) / (center - left) : (right - mel) / (right - center));
      }
    }
    filters.push({ first: Math.max(first, 0), weights: Float64Array.from(w) });
  }
  return filters;
}

/**
 * Real FFT of size n through one complex FFT of size n/2 (even samples real, odd imaginary),
 * then the usual split step. The complex FFT is radix-4 decimation in time (one radix-2 stage
 * first when log2(n/2) is odd): half the memory passes of radix-2. All tables are precomputed.
 */
class RealFft {
  private readonly half: number;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  /** position → index of z to load there (mixed-radix digit reversal) */
  private readonly order: Uint32Array;
  private readonly radix2First: boolean;
  /** e^{-2πik/half} for k < half */
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  /** e^{-2πik/n} for the split step */
  private readonly splitCos: Float64Array;
  private readonly splitSin: Float64Array;

  constructor(n: number) {
    const half = n >> 1;
    this.half = half;
    this.re = new Float64Array(half);
    this.im = new Float64Array(half);
    this.radix2First = Math.round(Math.log2(half)) % 2 === 1;
    this.order = digitReversal(half);
    this.cos = new Float64Array(half);
    this.sin = new Float64Array(half);
    for (let k = 0; k < half; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / half);
      this.sin[k] = -Math.sin((2 * Math.PI * k) / half);
    }
    this.splitCos = new Float64Array(half + 1);
    this.splitSin = new Float64Array(half + 1);
    for (let k = 0; k <= half; k++) {
      this.splitCos[k] = Math.cos((2 * Math.PI * k) / n);
      this.splitSin[k] = -Math.sin((2 * Math.PI * k) / n);
    }
  }

  /** |X[k]|² for k = 0..n/2 of the real signal x (length n). */
  powerSpectrum(x: Float64Array, out: Float64Array): void {
    const { half, re, im, order, cos, sin } = this;
    let q = 1;
    if (this.radix2First) {
      for (let i = 0; i < half; i += 2) {
        const a = order[i];
        const b = order[i + 1];
        const ar = x[2 * a];
        const ai = x[2 * a + 1];
        const br = x[2 * b];
        const bi = x[2 * b + 1];
        re[i] = ar + br;
        im[i] = ai + bi;
        re[i + 1] = ar - br;
        im[i + 1] = ai - bi;
      }
      q = 2;
    } else {
      for (let i = 0; i < half; i++) {
        const a = order[i];
        re[i] = x[2 * a];
        im[i] = x[2 * a + 1];
      }
    }
    // combine 4 blocks of length q into one of 4q: X[k + mq] = Σj W^{jk}·(-i)^{jm}·A_j[k]
    for (; q < half; q *= 4) {
      const stride = half / (4 * q);
      const span = 4 * q;
      // k = 0: all twiddles are 1 (the whole first radix-4 stage), skip the multiplications
      for (let a0 = 0; a0 < half; a0 += span) {
        const a1 = a0 + q;
        const a2 = a1 + q;
        const a3 = a2 + q;
        const s02r = re[a0] + re[a2];
        const s02i = im[a0] + im[a2];
        const d02r = re[a0] - re[a2];
        const d02i = im[a0] - im[a2];
        const s13r = re[a1] + re[a3];
        const s13i = im[a1] + im[a3];
        const d13r = re[a1] - re[a3];
        const d13i = im[a1] - im[a3];
        re[a0] = s02r + s13r;
        im[a0] = s02i + s13i;
        re[a2] = s02r - s13r;
        im[a2] = s02i - s13i;
        re[a1] = d02r + d13i;
        im[a1] = d02i - d13r;
        re[a3] = d02r - d13i;
        im[a3] = d02i + d13r;
      }
      for (let k = 1; k < q; k++) {
        const w1r = cos[k * stride];
        const w1i = sin[k * stride];
        const w2r = cos[2 * k * stride];
        const w2i = sin[2 * k * stride];
        const w3r = cos[3 * k * stride];
        const w3i = sin[3 * k * stride];
        for (let a0 = k; a0 < half; a0 += span) {
          const a1 = a0 + q;
          const a2 = a1 + q;
          const a3 = a2 + q;
          const b0r = re[a0];
          const b0i = im[a0];
          const b1r = re[a1] * w1r - im[a1] * w1i;
          const b1i = re[a1] * w1i + im[a1] * w1r;
          const b2r = re[a2] * w2r - im[a2] * w2i;
          const b2i = re[a2] * w2i + im[a2] * w2r;
          const b3r = re[a3] * w3r - im[a3] * w3i;
          const b3i = re[a3] * w3i + im[a3] * w3r;
          const s02r = b0r + b2r;
          const s02i = b0i + b2i;
          const d02r = b0r - b2r;
          const d02i = b0i - b2i;
          const s13r = b1r + b3r;
          const s13i = b1i + b3i;
          const d13r = b1r - b3r;
          const d13i = b1i - b3i;
          re[a0] = s02r + s13r;
          im[a0] = s02i + s13i;
          re[a2] = s02r - s13r;
          im[a2] = s02i - s13i;
          // ∓i·d13 = (±d13i, ∓d13r)
          re[a1] = d02r + d13i;
          im[a1] = d02i - d13r;
          re[a3] = d02r - d13i;
          im[a3] = d02i + d13r;
        }
      }
    }
    const { splitCos, splitSin } = this;
    // X[k] = E[k] + W^k·O[k], E and O recovered from Z[k] and conj(Z[half-k])
    for (let k = 0; k <= half; k++) {
      const k1 = k === half ? 0 : k;
      const k2 = k === 0 ? 0 : half - k;
      const zr = re[k1];
      const zi = im[k1];
      const cr = re[k2];
      const ci = -im[k2];
      const er = 0.5 * (zr + cr);
      const ei = 0.5 * (zi + ci);
      const or = 0.5 * (zi - ci);
      const oi = -0.5 * (zr - cr);
      const wr = splitCos[k];
      const wi = splitSin[k];
      const xr = er + or * wr - oi * wi;
      const xi = ei + or * wi + oi * wr;
      out[k] = xr * xr + xi * xi;
    }
  }
}

/** Load order for radix-4 DIT (radix-2 at the bottom when needed): block j of 4 holds x[4m + j]. */
function digitReversal(n: number): Uint32Array {
  if (n <= 2) return Uint32Array.from({ length: n }, (_, i) => i);
  const m = n / 4;
  const sub = digitReversal(m);
  const out = new Uint32Array(n);
  for (let j = 0; j < 4; j++) for (let s = 0; s < m; s++) out[j * m + s] = 4 * sub[s] + j;
  return out;
}

const DEFAULTS: Required<FbankOptions> = {
  sampleRate: 16000,
  frameLengthMs: 25,
  frameShiftMs: 10,
  numMelBins: 80,
  lowFreq: 20,
  highFreq: 0,
  preemphasis: 0.97,
  window: 'povey',
  removeDcOffset: true,
  scaleToInt16: true,
  subtractMean: false,
};

const plans = new Map<string, FbankPlan>();

/** Log-mel filterbank of mono samples in [-1, 1]; tables are cached per option set. */
export function computeFbank(samples: Float32Array, options: FbankOptions = {}): Fbank {
  const o: Required<FbankOptions> = { ...DEFAULTS, ...stripUndefined(options) };
  const key = JSON.stringify(o);
  let plan = plans.get(key);
  if (!plan) {
    plan = new FbankPlan(o);
    plans.set(key, plan);
  }
  return plan.compute(samples);
}

function stripUndefined(o: FbankOptions): FbankOptions {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as FbankOptions;
}
