/**
 * Alignment figures for `npm run bench`: forced-alignment speed on 1 h of random emissions, the
 * share of model inference vs DP on generated tone speech, and boundary accuracy vs ground truth.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { alignSegment, WAV2VEC2_FRAME_GEOMETRY, Wav2Vec2CtcModel } from '@app/alignment';
import { benchmarkAlignment } from './align-benchmark';
import { measureAlignmentAccuracy } from '../../test/support/alignment-accuracy';
import { synthesizeToneSpeech } from '../../test/support/tone-speech';
import { writeToneCtcModel } from '../fixtures/tone-ctc-model';

export interface AlignmentBenchFigures {
  dpRealtime: number;
  dpMsPerHour: number;
  inferenceShare: number;
  inferenceMs: number;
  dpMs: number;
  toneAudioSeconds: number;
  meanErrorMs: number;
  maxErrorMs: number;
  words: number;
}

export async function benchAlignment(): Promise<AlignmentBenchFigures> {
  // 1. the DP and backtrack alone: 1 h of emissions, vocabulary 32, segments of 10-30 s, one thread
  const dp = benchmarkAlignment({ audioSeconds: 3600, vocabSize: 32, minSegmentSeconds: 10, maxSegmentSeconds: 30 });

  const dir = mkdtempSync(join(os.tmpdir(), 'bench-align-'));
  try {
    await writeToneCtcModel(dir);
    const model = await Wav2Vec2CtcModel.load(dir, 'synthetic-tone-ctc', { useGpu: false, threads: 1 });
    // 2. inference vs alignment on 20 s segments of generated speech
    let inferenceMs = 0;
    let dpMs = 0;
    let toneAudioSeconds = 0;
    for (let i = 0; i < 6; i++) {
      const words = 'the quick brown fox jumps over the lazy dog while seven wizards quietly hex jumbo bags'.split(' ');
      const speech = synthesizeToneSpeech(words, { charSeconds: 0.2, gapSeconds: 0.12, seed: i + 1 });
      toneAudioSeconds += speech.duration;
      let started = performance.now();
      const emissions = await model.emissions(speech.pcm);
      inferenceMs += performance.now() - started;
      started = performance.now();
      alignSegment({ segment: { text: words.join(' '), start: 0, end: speech.duration }, ...emissions, vocab: model.vocab, frameGeometry: WAV2VEC2_FRAME_GEOMETRY });
      dpMs += performance.now() - started;
    }
    // 3. accuracy against the generated ground truth
    const accuracy = await measureAlignmentAccuracy(model, { sentences: 40, seed: 11 });
    await model.release();
    return {
      dpRealtime: dp.realtimeFactor,
      dpMsPerHour: dp.wallMs,
      inferenceShare: inferenceMs / (inferenceMs + dpMs),
      inferenceMs,
      dpMs,
      toneAudioSeconds,
      meanErrorMs: accuracy.meanMs,
      maxErrorMs: accuracy.maxMs,
      words: accuracy.words,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function alignmentRows(f: AlignmentBenchFigures): string[] {
  return [
    `| alignment DP + backtrack, 1 h of emissions (vocab 32, 10-30 s segments), 1 core | ${f.dpMsPerHour.toFixed(0)} ms = **${f.dpRealtime.toFixed(0)}× realtime** (goal ≥ 500×) |`,
    `| alignment on ${f.toneAudioSeconds.toFixed(0)} s of tone speech: model inference / DP | ${f.inferenceMs.toFixed(0)} ms / ${f.dpMs.toFixed(1)} ms (inference ${(f.inferenceShare * 100).toFixed(1)} % of the stage) |`,
    `| alignment boundary error vs ground truth (${f.words} words, designed model) | **mean ${f.meanErrorMs.toFixed(1)} ms, max ${f.maxErrorMs.toFixed(1)} ms** (goal ≤ 20 / ≤ 40) |`,
  ];
}
