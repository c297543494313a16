/**
 * Diarization figures for `npm run bench`: DER on generated 2- and 4-speaker conversations,
 * clustering + stitching time for 1 h of windows, and a long file end to end with peak RSS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { benchmarkClustering, DiarizationModels, diarize, diarizationErrorRate, locateDiarizationModels, SegmentationModel, SpeakerEmbeddingModel } from '@app/diarization';
import { scoreConversation } from '../test/support/diarization-accuracy';
import { makeConversationScript, synthesizeConversation } from '../test/support/synthetic-conversation';
import { ensureDiarizationModels } from './fixtures/diarization-models';

export interface DiarizationBenchFigures {
  der2: number;
  der4: number;
  speakers4: number;
  clusterMs: number;
  stitchMs: number;
  clusteredEmbeddings: number;
  longSeconds: number;
  longMs: number;
  longDer: number;
  longSpeakers: number;
  rssBeforeMb: number;
  peakRssMb: number;
}

const rssMb = () => process.memoryUsage.rss() / 2 ** 20;

export async function benchDiarization(longSeconds: number): Promise<DiarizationBenchFigures> {
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-diarize-'));
  try {
    await ensureDiarizationModels(dir);
    const paths = locateDiarizationModels(dir);
    const models: DiarizationModels = {
      segmentation: await SegmentationModel.load(paths.segmentation, paths.segmentationName, { useGpu: false, threads: 1, configPath: join(paths.dir, 'segmentation.json') }),
      embedding: await SpeakerEmbeddingModel.load(paths.embedding, paths.embeddingName, { useGpu: false, threads: 1, configPath: join(paths.dir, 'embedding.json') }),
    };
    const two = await scoreConversation(models, { speakers: 2, seconds: 120, seed: 31 });
    const four = await scoreConversation(models, { speakers: 4, seconds: 120, seed: 32 });
    const clustering = benchmarkClustering({ windows: 3600, localSpeakers: 3, dimension: 256, speakers: 4, seed: 1 });

    // a long conversation end to end: memory should stay near the decoded audio plus a bounded working set
    const script = makeConversationScript({ speakers: 3, seconds: longSeconds, seed: 33 });
    const audio = synthesizeConversation({ speakers: 3, turns: script, seed: 33 });
    const reference = audio.turns.map(({ speaker, start, end }) => ({ speaker, start, end }));
    (globalThis as { gc?: () => void }).gc?.();
    const rssBeforeMb = rssMb();
    let peakRssMb = rssBeforeMb;
    const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, rssMb())), 50);
    const started = performance.now();
    const result = await diarize(audio.pcm, models);
    const longMs = performance.now() - started;
    clearInterval(sampler);
    peakRssMb = Math.max(peakRssMb, rssMb());
    const longScore = diarizationErrorRate(reference, result.turns, { collar: 0.25 });
    await models.segmentation.release();
    await models.embedding.release();
    return {
      der2: two.der,
      der4: four.der,
      speakers4: four.speakersFound,
      clusterMs: clustering.clusterMs,
      stitchMs: clustering.stitchMs,
      clusteredEmbeddings: clustering.embeddings,
      longSeconds,
      longMs,
      longDer: longScore.der,
      longSpeakers: new Set(result.turns.map((t) => t.speaker)).size,
      rssBeforeMb,
      peakRssMb,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function diarizationRows(f: DiarizationBenchFigures): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  return [
    `| diarization DER, 2 speakers / 4 speakers (120 s each, overlaps, 0.25 s collar) | **${pct(f.der2)} / ${pct(f.der4)}** (goal ≤ 5 %), ${f.speakers4} of 4 speakers found |`,
    `| clustering + stitching for 1 h (3,600 windows × 3 local speakers = ${f.clusteredEmbeddings} embeddings), 1 core | **${f.clusterMs.toFixed(0)} + ${f.stitchMs.toFixed(0)} ms** (goal < 1 s) |`,
    `| diarization of ${(f.longSeconds / 60).toFixed(0)} min end to end (designed models, 1 thread) | ${(f.longMs / 1000).toFixed(1)} s = ${(f.longSeconds / (f.longMs / 1000)).toFixed(0)}× realtime, DER ${pct(f.longDer)}, ${f.longSpeakers} speakers |`,
    `| RSS during it: before (audio decoded) → peak | ${f.rssBeforeMb.toFixed(0)} → ${f.peakRssMb.toFixed(0)} MB (audio itself: ${((f.longSeconds * 16000 * 4) / 2 ** 20).toFixed(0)} MB) |`,
  ];
}
