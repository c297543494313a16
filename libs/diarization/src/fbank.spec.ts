import { performance } from 'node:perf_hooks';
import { FLT_EPSILON, computeFbank, fbankFrameCount, melScale, subtractFrameMean } from './fbank';

/**
 * Reference written from the Kaldi recipe with nothing shared with fbank.ts: plain loops, a direct
 * DFT, triangles straight from the mel formula.
 */
function naiveFbank(samples: Float32Array, window: 'povey' | 'hamming' = 'povey', scale = 32768): number[][] {
  const rows: number[][] = [];
  const L = 400;
  const N = 512;
  // exact cos/sin of 2πm/N: the direct DFT below only ever needs m = k·n mod N
  const cosTable = Array.from({ length: N }, (_, m) => Math.cos((2 * Math.PI * m) / N));
  const sinTable = Array.from({ length: N }, (_, m) => Math.sin((2 * Math.PI * m) / N));
  const mel = (f: number) => 1127 * Math.log(1 + f / 700);
  for (let start = 0; start + L <= samples.length; start += 160) {
    const x: number[] = [];
    for (let i = 0; i < L; i++) x.push(samples[start + i] * scale);
    const mean = x.reduce((a, b) => a + b, 0) / L;
    for (let i = 0; i < L; i++) x[i] -= mean;
    const pre: number[] = [];
    for (let i = 0; i < L; i++) pre.push(x[i] - 0.97 * (i === 0 ? x[0] : x[i - 1]));
    for (let i = 0; i < L; i++) {
      const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (L - 1));
      const w = window === 'povey' ? Math.pow(hann, 0.85) : 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (L - 1));
      pre[i] *= w;
    }
    const power: number[] = [];
    for (let k = 0; k < N / 2; k++) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < L; n++) {
        re += pre[n] * cosTable[(k * n) % N];
        im -= pre[n] * sinTable[(k * n) % N];
      }
      power.push(re * re + im * im);
    }
    const row: number[] = [];
    const lo = mel(20);
    const hi = mel(8000);
    const d = (hi - lo) / 81;
    for (let b = 0; b < 80; b++) {
      const l = lo + b * d;
      const c = lo + (b + 1) * d;
      const r = lo + (b + 2) * d;
      let e = 0;
      for (let k = 0; k < N / 2; k++) {
        const m = mel((k * 16000) / N);
        if (m > l && m < r) e += power[k] * (m <= c ? (m - l) / (c - l) : (r - m) / (r - c));
      }
      row.push(Math.log(Math.max(e, FLT_EPSILON)));
    }
    rows.push(row);
  }
  return rows;
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Speech-like test signal: two tones, a chirp and noise, well inside [-1, 1]. */
function testSignal(n: number, seed = 1): Float32Array {
  const rnd = random(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / 16000;
    x[i] = 0.3 * Math.sin(2 * Math.PI * 220 * t) + 0.1 * Math.sin(2 * Math.PI * 3100 * t + 1) + 0.05 * Math.sin(2 * Math.PI * (300 + 2000 * t) * t) + 0.02 * (rnd() - 0.5);
  }
  return x;
}

function maxDiff(actual: Float32Array, expected: number[][]): number {
  let worst = 0;
  expected.forEach((row, t) => row.forEach((v, b) => (worst = Math.max(worst, Math.abs(actual[t * 80 + b] - v)))));
  return worst;
}

describe('computeFbank (Kaldi fbank)', () => {
  it('counts frames like snip_edges=true', () => {
    expect(fbankFrameCount(399)).toBe(0);
    expect(fbankFrameCount(400)).toBe(1);
    expect(fbankFrameCount(559)).toBe(1);
    expect(fbankFrameCount(560)).toBe(2);
    expect(fbankFrameCount(16000)).toBe(98);
    expect(computeFbank(new Float32Array(399)).frames).toBe(0);
  });

  it('matches an independent direct-DFT reference within 1e-3 (povey)', () => {
    const x = testSignal(16000);
    const ref = naiveFbank(x);
    const out = computeFbank(x);
    expect(out.frames).toBe(ref.length);
    expect(out.bins).toBe(80);
    expect(maxDiff(out.features, ref)).toBeLessThan(1e-3);
  });

  it('matches the reference with a hamming window and without int16 scaling', () => {
    const x = testSignal(4000, 7);
    expect(maxDiff(computeFbank(x, { window: 'hamming' }).features, naiveFbank(x, 'hamming'))).toBeLessThan(1e-3);
    expect(maxDiff(computeFbank(x, { scaleToInt16: false }).features, naiveFbank(x, 'povey', 1))).toBeLessThan(1e-3);
  });

  it('gives log(FLT_EPSILON) everywhere for silence (and for a DC offset, which is removed)', () => {
    for (const v of [0, 0.25]) {
      const out = computeFbank(new Float32Array(4000).fill(v));
      expect(out.frames).toBe(23);
      // a constant frame is exactly zero after DC removal: every energy hits the floor
      for (const f of out.features) expect(f).toBeCloseTo(Math.log(FLT_EPSILON), 6);
    }
  });

  it('puts a pure tone into the mel bin whose centre is nearest its frequency', () => {
    const lo = melScale(20);
    const delta = (melScale(8000) - lo) / 81;
    for (const hz of [250, 1000, 2500, 5000]) {
      const x = new Float32Array(8000);
      for (let i = 0; i < x.length; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * hz * i) / 16000);
      const { features, frames } = computeFbank(x);
      // expected bin: centre_b = lo + (b + 1)·delta nearest mel(hz)
      const expected = Math.round((melScale(hz) - lo) / delta - 1);
      for (let t = 0; t < frames; t++) {
        const row = features.subarray(t * 80, t * 80 + 80);
        const argmax = row.indexOf(Math.max(...row));
        expect(Math.abs(argmax - expected)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('subtracts the per-bin mean over frames when asked', () => {
    const x = testSignal(8000, 3);
    const raw = computeFbank(x);
    const cmn = computeFbank(x, { subtractMean: true });
    for (let b = 0; b < 80; b++) {
      let s = 0;
      for (let t = 0; t < cmn.frames; t++) s += cmn.features[t * 80 + b];
      expect(Math.abs(s / cmn.frames)).toBeLessThan(1e-4);
    }
    const manual = subtractFrameMean(raw.features.slice(), raw.frames, 80);
    for (let i = 0; i < manual.length; i++) expect(Math.abs(manual[i] - cmn.features[i])).toBeLessThan(1e-5);
  });

  it('frames of a window starting at a multiple of 160 samples equal the slice of the whole-file fbank', () => {
    const x = testSignal(48000, 5);
    const whole = computeFbank(x);
    const part = computeFbank(x.subarray(16000, 32000));
    const offset = 100 * 80;
    for (let i = 0; i < part.features.length; i++) expect(part.features[i]).toBe(whole.features[offset + i]);
  });

  it('rejects impossible settings', () => {
    expect(() => computeFbank(new Float32Array(1000), { lowFreq: 9000 })).toThrow(RangeError);
  });

  it('is fast: reports seconds per hour of audio', () => {
    const minute = testSignal(16000 * 60, 11);
    let ms = Infinity;
    let frames = 0;
    // best of a few runs: the first ones include JIT warm-up, and the machine may be shared
    for (let run = 0; run < 4; run++) {
      const t0 = performance.now();
      frames = computeFbank(minute).frames;
      ms = Math.min(ms, performance.now() - t0);
    }
    const perHour = (ms * 60) / 1000;
    console.log(`fbank: ${frames} frames for 60 s in ${ms.toFixed(1)} ms → ~${perHour.toFixed(2)} s per hour of audio`);
    expect(perHour).toBeLessThan(5);
  });
});
