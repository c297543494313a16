/**
 * Diarization figures for `npm run bench`: DER on generated 2- and 4-speaker conversations,
 * clustering + stitching time for 1 h of windows, and a long file end to end with peak RSS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { DiarizationModels, diarize, DiarizeOptions, locateDiarizationModels, SegmentationModel, SpeakerEmbeddingModel } from '@app/diarization';
import { diarizationErrorRate } from '@app/testing';
import { benchmarkClustering } from './clustering-benchmark';
import { ConversationCase, ConversationScore, scoreConversation } from '../../test/support/diarization-accuracy';
import { makeConversationScript, synthesizeConversation } from '../../test/support/synthetic-conversation';
import { ensureDiarizationModels } from '../fixtures/diarization-models';

export interface DiarizationBenchFigures {
  der2: number;
  der4: number;
  speakers4: number;
  clusterMs: number;
  /** every (window, local speaker) given a centroid (argmax, pyannote 3.1) */
  assignMs: number;
  stitchMs: number;
  clusteredEmbeddings: number;
  longSeconds: number;
  longMs: number;
  longDer: number;
  longSpeakers: number;
  rssBeforeMb: number;
  peakRssMb: number;
}

/**
 * The designed set: every generated conversation the tests and this bench hold to DER ≤ 5 %
 * (diarize.spec.ts, test/e2e/diarization.e2e-spec.ts, the two bench conversations).
 */
export const DESIGNED_SET: readonly (ConversationCase & { name: string })[] = [
  { name: 'unit 2 spk 60 s', speakers: 2, seconds: 60, seed: 3 },
  { name: 'unit 4 spk 90 s', speakers: 4, seconds: 90, seed: 5 },
  { name: 'unit 2 spk 40 s, min=max=2', speakers: 2, seconds: 40, seed: 9, minSpeakers: 2, maxSpeakers: 2 },
  { name: 'e2e 2 spk 45 s, min=max=2', speakers: 2, seconds: 45, seed: 21, minSpeakers: 2, maxSpeakers: 2 },
  { name: 'e2e 4 spk 60 s', speakers: 4, seconds: 60, seed: 5 },
  { name: 'bench 2 spk 120 s', speakers: 2, seconds: 120, seed: 31 },
  { name: 'bench 4 spk 120 s', speakers: 4, seconds: 120, seed: 32 },
];

/** A wider sweep for choices that the fixed set cannot separate: `count` seeds of 2 and of 4 speakers, 90 s each. */
export function sweepSet(count = 10, firstSeed = 101): (ConversationCase & { name: string })[] {
  return [2, 4].flatMap((speakers) =>
    Array.from({ length: count }, (_, i) => ({ name: `sweep ${speakers} spk 90 s seed ${firstSeed + i}`, speakers, seconds: 90, seed: firstSeed + i })),
  );
}

/**
 * Harder than the designed set, to separate methods that tie on it: twice the overlapped turns
 * (40 %), longer overlaps and a noise floor twice as loud (σ 0.006), 3 and 4 speakers.
 */
export function stressSet(count = 10, firstSeed = 201): (ConversationCase & { name: string })[] {
  return [3, 4].flatMap((speakers) =>
    Array.from({ length: count }, (_, i) => ({
      name: `stress ${speakers} spk 90 s seed ${firstSeed + i}`,
      speakers,
      seconds: 90,
      seed: firstSeed + i,
      overlapRatio: 0.4,
      noise: 0.006,
    })),
  );
}

export interface SetScore {
  cases: (ConversationScore & { name: string })[];
  /** mean DER over the cases */
  meanDer: number;
  maxDer: number;
  /** mean DER without collar */
  meanDerNoCollar: number;
  /** cases whose speaker count is wrong (cases with min = max count the forced number) */
  wrongCount: number;
}

/** Scores `cases` with the given pipeline options. */
export async function scoreSet(models: DiarizationModels, cases: readonly (ConversationCase & { name: string })[], options: DiarizeOptions = {}): Promise<SetScore> {
  const scored: (ConversationScore & { name: string })[] = [];
  for (const c of cases) scored.push({ name: c.name, ...(await scoreConversation(models, c, options)) });
  const ders = scored.map((s) => s.der);
  return {
    cases: scored,
    meanDer: ders.reduce((a, b) => a + b, 0) / Math.max(1, ders.length),
    maxDer: Math.max(0, ...ders),
    meanDerNoCollar: scored.reduce((a, s) => a + s.derNoCollar, 0) / Math.max(1, scored.length),
    wrongCount: scored.filter((s, i) => s.speakersFound !== (cases[i].minSpeakers === cases[i].maxSpeakers && cases[i].minSpeakers !== undefined ? cases[i].minSpeakers : cases[i].speakers)).length,
  };
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
      assignMs: clustering.assignMs,
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
    `| clustering + assignment + stitching for 1 h (3,600 windows × 3 local speakers = ${f.clusteredEmbeddings} embeddings; centroid linkage, min_cluster_size 12, argmax), 1 core | **${f.clusterMs.toFixed(0)} + ${f.assignMs.toFixed(0)} + ${f.stitchMs.toFixed(0)} ms** (goal < 1 s) |`,
    `| diarization of ${(f.longSeconds / 60).toFixed(0)} min end to end (designed models, 1 thread) | ${(f.longMs / 1000).toFixed(1)} s = ${(f.longSeconds / (f.longMs / 1000)).toFixed(0)}× realtime, DER ${pct(f.longDer)}, ${f.longSpeakers} speakers |`,
    `| RSS during it: before (audio decoded) → peak | ${f.rssBeforeMb.toFixed(0)} → ${f.peakRssMb.toFixed(0)} MB (audio itself: ${((f.longSeconds * 16000 * 4) / 2 ** 20).toFixed(0)} MB) |`,
  ];
}
