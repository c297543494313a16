/**
 * Timing of the clustering and stitching stages on an hour of synthetic diarization input: a
 * conversation of a few speakers, seen through 10 s windows every 1 s (3 local slots each, in a
 * shuffled order per window, slots without a speaker inactive), with one noisy embedding per
 * active slot around its speaker's direction. Segmentation and embedding models are not run; the
 * rest is the pipeline's: clustering, every slot given a centroid, stitching.
 */
import { performance } from 'node:perf_hooks';
import {
  assignWindowSpeakers,
  clusterEmbeddings,
  type ClusteringOptions,
  PYANNOTE_CENTROID_THRESHOLD,
  PYANNOTE_MIN_CLUSTER_SIZE,
  SEGMENTATION_3_FRAMES,
  type SpeakerTurn,
  stitchTurns,
  type TurnOptions,
  type WindowActivity,
  windowFirstFrame,
} from '@app/diarization';
import { diarizationErrorRate, mulberry32 } from '@app/testing';

export interface ClusteringBenchmarkOptions {
  /** 10 s windows, one per second; default 3600 (one hour) */
  windows?: number;
  /** default 3 */
  localSpeakers?: number;
  /** default 256 */
  dimension?: number;
  /** true speakers in the conversation; default 4 */
  speakers?: number;
  /** per-dimension noise std; within-speaker cosine ≈ 1 / (1 + dimension·noise²), 0.7 by default */
  noise?: number;
  seed?: number;
  /** default: the pipeline's (pyannote 3.1: centroid linkage, its threshold, min_cluster_size 12) */
  clustering?: ClusteringOptions;
  /**
   * how slots get clusters after clustering: 'argmax' (closest centroid, the pipeline's default),
   * 'hungarian' (one-to-one per window) or 'labels' (the clustering's own labels); default 'argmax'
   */
  assignment?: 'argmax' | 'hungarian' | 'labels';
  /** default: the pipeline's (min_duration_on = min_duration_off = 0) */
  turns?: TurnOptions;
}

export interface ClusteringBenchmarkResult {
  /** embeddings clustered (active window slots) */
  embeddings: number;
  clusterMs: number;
  /** every slot given a centroid (0 with assignment 'labels') */
  assignMs: number;
  stitchMs: number;
  speakersFound: number;
  /** of the stitched turns against the generated conversation, no collar */
  der: number;
  method: 'exact' | 'two-stage';
}

const FRAMES_PER_WINDOW = 589;


const { sqrt, log, cos, PI } = Math;

/** Turns of alternating random speakers, 1–6 s long, gaps from −0.5 s (overlap) to 1 s. */
function conversation(seconds: number, speakers: number, random: () => number): SpeakerTurn[] {
  const turns: SpeakerTurn[] = [];
  let t = random();
  let previous = -1;
  while (t < seconds) {
    let s = Math.floor(random() * speakers);
    if (s === previous) s = (s + 1) % speakers;
    const end = Math.min(seconds, t + 1 + 5 * random());
    turns.push({ start: t, end, speaker: `S${s}` });
    previous = s;
    t = end - 0.5 + 1.5 * random();
  }
  return turns;
}

export function benchmarkClustering(options: ClusteringBenchmarkOptions = {}): ClusteringBenchmarkResult {
  const windowCount = options.windows ?? 3600;
  const local = options.localSpeakers ?? 3;
  const d = options.dimension ?? 256;
  const speakerCount = options.speakers ?? 4;
  const noise = options.noise ?? sqrt(0.43 / d);
  const random = mulberry32(options.seed ?? 1);
  const gauss = (): number => sqrt(-2 * log(1 - random())) * cos(2 * PI * random());
  const geometry = SEGMENTATION_3_FRAMES;

  const seconds = windowCount - 1 + 10;
  const truth = conversation(seconds, speakerCount, random);
  // truth on the global frame grid, one row per speaker
  const frames = windowFirstFrame(windowCount - 1, geometry) + FRAMES_PER_WINDOW;
  const on = new Uint8Array(speakerCount * frames);
  for (const t of truth) {
    const s = Number(t.speaker.slice(1));
    const centre = (g: number): number => (g * geometry.step + geometry.receptiveField / 2) / geometry.sampleRate;
    let g = Math.max(0, Math.floor((t.start * geometry.sampleRate - geometry.receptiveField / 2) / geometry.step));
    for (; g < frames && centre(g) < t.end; g++) if (centre(g) >= t.start) on[s * frames + g] = 1;
  }

  const directions = Array.from({ length: speakerCount }, () => {
    const v = Float64Array.from({ length: d }, gauss);
    const n = sqrt(v.reduce((a, x) => a + x * x, 0));
    return v.map((x) => x / n);
  });

  const windows: WindowActivity[] = [];
  const slotSpeaker = new Int32Array(windowCount * local).fill(-1);
  const embeddingRows: number[] = [];
  for (let w = 0; w < windowCount; w++) {
    const first = windowFirstFrame(w, geometry);
    // speakers heard in the window, the most talkative first; a model has only `local` slots
    const talk = directions.map((_, s) => {
      let n = 0;
      for (let i = 0; i < FRAMES_PER_WINDOW; i++) n += on[s * frames + first + i];
      return { s, n };
    });
    const present = talk.filter((x) => x.n > 0).sort((a, b) => b.n - a.n).slice(0, local);
    const activity = new Float32Array(FRAMES_PER_WINDOW * local);
    const shift = Math.floor(random() * local);
    present.forEach(({ s }, p) => {
      const slot = (p + shift) % local;
      slotSpeaker[w * local + slot] = s;
      embeddingRows.push(w * local + slot);
      for (let i = 0; i < FRAMES_PER_WINDOW; i++) activity[i * local + slot] = on[s * frames + first + i];
    });
    windows.push({ start: w, activity, frames: FRAMES_PER_WINDOW, speakers: local });
  }
  embeddingRows.sort((a, b) => a - b);
  const embeddings = new Float32Array(embeddingRows.length * d);
  embeddingRows.forEach((row, e) => {
    const dir = directions[slotSpeaker[row]];
    for (let k = 0; k < d; k++) embeddings[e * d + k] = dir[k] + noise * gauss();
  });

  const clustering: ClusteringOptions = options.clustering ?? { threshold: PYANNOTE_CENTROID_THRESHOLD, linkage: 'centroid', minClusterSize: PYANNOTE_MIN_CLUSTER_SIZE };
  const assignment = options.assignment ?? 'argmax';
  // the pipeline's layout: windows × local slots × dimension
  const slots = new Float32Array(windowCount * local * d);
  const active = new Uint8Array(windowCount * local);
  embeddingRows.forEach((row, e) => {
    slots.set(embeddings.subarray(e * d, (e + 1) * d), row * d);
    active[row] = 1;
  });
  const t0 = performance.now();
  const clusters = clusterEmbeddings(embeddings, d, clustering);
  const t1 = performance.now();
  let labels: Int32Array;
  if (assignment === 'labels') {
    labels = new Int32Array(windowCount * local).fill(-1);
    embeddingRows.forEach((row, e) => (labels[row] = clusters.labels[e]));
  } else {
    labels = assignWindowSpeakers({ embeddings: slots, dimension: d, localSpeakers: local, centroids: clusters.centroids, active, constrained: assignment === 'hungarian' });
  }
  const t2 = performance.now();
  const { turns } = stitchTurns(windows, labels, { duration: seconds, ...options.turns });
  const t3 = performance.now();

  return {
    embeddings: embeddingRows.length,
    clusterMs: t1 - t0,
    assignMs: t2 - t1,
    stitchMs: t3 - t2,
    speakersFound: new Set(turns.map((t) => t.speaker)).size,
    der: diarizationErrorRate(truth, turns, { collar: 0 }).der,
    method: clusters.method,
  };
}
