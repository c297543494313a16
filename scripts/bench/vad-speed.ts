/** Silero VAD throughput on one thread, for `npm run bench` (a figure, not a test: machines are noisy). */
import { readFileSync } from 'node:fs';
import { SileroVadModel } from '@app/vad';
import { JFK_WAV } from '../../test/support/samples';
import { readPcm16Wav, repeatSpeech } from '../../test/support/wav';

const RATE = 16_000;

export interface VadSpeed {
  seconds: number;
  framesPerSecond: number;
  realtime: number;
}

/** `seconds` of jfk repeated, after a one-second warm-up. */
export async function benchVadSpeed(seconds = 120): Promise<VadSpeed> {
  const model = await SileroVadModel.load(undefined, { threads: 1 });
  try {
    const pcm = repeatSpeech(readPcm16Wav(readFileSync(JFK_WAV)), seconds);
    await model.probabilities(pcm.subarray(0, RATE));
    const started = performance.now();
    const probabilities = await model.probabilities(pcm);
    const elapsedS = (performance.now() - started) / 1000;
    return { seconds, framesPerSecond: probabilities.length / elapsedS, realtime: pcm.length / RATE / elapsedS };
  } finally {
    await model.release();
  }
}
