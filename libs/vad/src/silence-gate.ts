/**
 * Audio whose loudest sample stays under −70 dBFS (about 10 steps of 16-bit PCM: dither, a muted
 * microphone, digital silence) holds nothing Silero calls speech at an onset of 0.1 or more: jfk
 * scaled to that peak reaches a speech probability of 0.05 (the spec checks it). For such audio the
 * VAD need not be loaded nor run: a silent upload costs microseconds instead of ~5 ms per second.
 */
export const SILENCE_PEAK = 10 ** (-70 / 20);
/** Below this onset a caller asked Silero to hear the faintest probability: the gate stays out of the way. */
export const SILENCE_GATE_MIN_ONSET = 0.1;

/** True when `pcm` is certainly speechless for a VAD run at `onset` (stops at the first loud sample). */
export function isSilentForVad(pcm: Float32Array, onset: number): boolean {
  if (onset < SILENCE_GATE_MIN_ONSET) return false;
  for (let i = 0; i < pcm.length; i++) {
    if (pcm[i] >= SILENCE_PEAK || pcm[i] <= -SILENCE_PEAK) return false;
  }
  return true;
}
