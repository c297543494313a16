import { readFileSync } from 'node:fs';
import { JFK_WAV } from '../../../test/support/samples';
import { readPcm16Wav } from '../../../test/support/wav';
import { isSilentForVad, SILENCE_GATE_MIN_ONSET, SILENCE_PEAK } from './silence-gate';
import { SileroVadModel, defaultSileroVadPath } from './silero-vad-model';
import { speechSegments } from './speech-timestamps';

/** jfk scaled so that its loudest sample is `peak`. */
function jfkAtPeak(peak: number): Float32Array {
  const jfk = readPcm16Wav(readFileSync(JFK_WAV));
  const loudest = jfk.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return jfk.map((v) => (v * peak) / loudest);
}

describe('silence gate before the VAD', () => {
  it('digital silence and audio just under the peak are silent; one sample above it is not', () => {
    expect(isSilentForVad(new Float32Array(16_000), 0.5)).toBe(true);
    const quiet = jfkAtPeak(SILENCE_PEAK * 0.99);
    expect(isSilentForVad(quiet, 0.5)).toBe(true);
    quiet[8_000] = -SILENCE_PEAK * 1.01;
    expect(isSilentForVad(quiet, 0.5)).toBe(false);
    expect(isSilentForVad(jfkAtPeak(0.5), 0.5)).toBe(false);
  });

  it('below the minimum onset the gate never answers silent', () => {
    expect(isSilentForVad(new Float32Array(16_000), SILENCE_GATE_MIN_ONSET - 0.01)).toBe(false);
  });

  it('the real Silero model finds no speech in jfk scaled to the gate\'s peak, at the lowest onset the gate serves', async () => {
    const vad = await SileroVadModel.load(defaultSileroVadPath(), { threads: 1 });
    try {
      const pcm = jfkAtPeak(SILENCE_PEAK);
      const probabilities = await vad.probabilities(pcm, () => undefined);
      const segments = speechSegments(probabilities, { audio: pcm, threshold: SILENCE_GATE_MIN_ONSET, negThreshold: SILENCE_GATE_MIN_ONSET - 0.05 });
      expect(segments).toEqual([]);
      expect(Math.max(...probabilities)).toBeLessThan(SILENCE_GATE_MIN_ONSET);
      // and the same speech 30 dB louder is found: the model is not simply deaf here
      const louder = jfkAtPeak(SILENCE_PEAK * 10 ** (30 / 20));
      expect(speechSegments(await vad.probabilities(louder, () => undefined), { audio: louder, threshold: 0.5, negThreshold: 0.35 }).length).toBeGreaterThan(0);
    } finally {
      await vad.release();
    }
  });
});
