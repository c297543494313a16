/**
 * The diarization pipeline (pyannote 3.x / sherpa-onnx method): 10 s windows every second →
 * segmentation (powerset) → per (window, local speaker) embedding of its clean speech →
 * clustering → every local speaker assigned to a cluster → overlapping windows stitched into turns.
 */
import { assignWindowSpeakers } from './window-assignment';
import { clusterEmbeddings, euclideanToCentroidThreshold } from './clustering';
import { ClusteringOptions, SpeakerTurn, WindowActivity } from './diarization-types';
import { SpeakerEmbeddingModel } from './embedding-model';
import { decodePowerset } from './powerset';
import { SegmentationModel } from './segmentation-model';
import { slidingWindowStarts, stitchTurns } from './stitching';

export interface DiarizeOptions {
  minSpeakers?: number;
  maxSpeakers?: number;
  /** clustering threshold; default: pyannote 3.1's tuned centroid-linkage value for WeSpeaker embeddings */
  threshold?: number;
  linkage?: ClusteringOptions['linkage'];
  stepSeconds?: number;
  /** windows per segmentation run */
  batchSize?: number;
  /** frames where the speaker talks alone needed before its embedding is trusted (pyannote: 10) */
  minCleanFrames?: number;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export interface DiarizeResult {
  turns: SpeakerTurn[];
  windows: number;
  embeddings: number;
}

export interface DiarizationModels {
  segmentation: SegmentationModel;
  embedding: SpeakerEmbeddingModel;
}

/** pyannote/speaker-diarization-3.1: centroid linkage, euclidean threshold 0.7046 on unit vectors. */
export const DEFAULT_CLUSTERING_THRESHOLD = euclideanToCentroidThreshold(0.7046);

export async function diarize(pcm: Float32Array, models: DiarizationModels, options: DiarizeOptions = {}): Promise<DiarizeResult> {
  const geometry = models.segmentation.geometry;
  const { windowSamples, sampleRate } = geometry;
  const starts = slidingWindowStarts(pcm.length, sampleRate, windowSamples / sampleRate, options.stepSeconds ?? 1);
  if (starts.length === 0) return { turns: [], windows: 0, embeddings: 0 };
  const batchSize = options.batchSize ?? 8;
  const minClean = options.minCleanFrames ?? 10;
  const windows: WindowActivity[] = [];
  const localSpeakers = 3;
  const active = new Uint8Array(starts.length * localSpeakers);
  // filled as embeddings arrive; the dimension is known after the first one
  let embeddings = new Float32Array(0);
  let dimension = 0;
  let embedded = 0;
  const batch = new Float32Array(batchSize * windowSamples);

  for (let first = 0; first < starts.length; first += batchSize) {
    if (options.signal?.aborted) throw new Error('aborted');
    const count = Math.min(batchSize, starts.length - first);
    const input = batch.subarray(0, count * windowSamples);
    input.fill(0);
    for (let k = 0; k < count; k++) {
      const from = Math.round(starts[first + k] * sampleRate);
      input.set(pcm.subarray(from, Math.min(pcm.length, from + windowSamples)), k * windowSamples);
    }
    const { logProbs, frames } = await models.segmentation.run(input, count);
    for (let k = 0; k < count; k++) {
      const w = first + k;
      const decoded = decodePowerset(logProbs.subarray(k * frames * geometry.classes, (k + 1) * frames * geometry.classes), frames);
      windows.push({ start: starts[w], activity: decoded.activity, frames, speakers: decoded.speakers });
      for (let s = 0; s < localSpeakers; s++) {
        const clean = cleanSpeech(input.subarray(k * windowSamples, (k + 1) * windowSamples), decoded.activity, frames, decoded.speakers, s, geometry.frameStep, geometry.receptiveField, minClean);
        if (!clean) continue;
        const embedding = await models.embedding.embed(clean);
        if (dimension === 0) {
          dimension = embedding.length;
          embeddings = new Float32Array(starts.length * localSpeakers * dimension);
        }
        embeddings.set(embedding, (w * localSpeakers + s) * dimension);
        active[w * localSpeakers + s] = 1;
        embedded++;
      }
    }
    options.onProgress?.(Math.min(1, (first + count) / starts.length) * 0.9);
  }
  if (embedded === 0) return { turns: [], windows: windows.length, embeddings: 0 };

  const rows = packActive(embeddings, active, dimension);
  const fixed = options.minSpeakers !== undefined && options.minSpeakers === options.maxSpeakers ? options.minSpeakers : undefined;
  const clusters = clusterEmbeddings(rows, dimension, {
    threshold: options.threshold ?? DEFAULT_CLUSTERING_THRESHOLD,
    linkage: options.linkage ?? 'centroid',
    numSpeakers: fixed,
    minSpeakers: options.minSpeakers,
    maxSpeakers: options.maxSpeakers,
  });
  const labels = assignWindowSpeakers({ embeddings, dimension, localSpeakers, centroids: clusters.centroids, active });
  const { turns } = stitchTurns(windows, labels, {
    geometry: { sampleRate, step: geometry.frameStep, receptiveField: geometry.receptiveField },
    duration: pcm.length / sampleRate,
  });
  options.onProgress?.(1);
  return { turns, windows: windows.length, embeddings: embedded };
}

/**
 * The samples of the frames where local speaker `s` talks alone, concatenated (overlapped speech
 * would blur the embedding); null when there are fewer than `minFrames` such frames.
 */
function cleanSpeech(
  window: Float32Array,
  activity: Float32Array,
  frames: number,
  speakers: number,
  s: number,
  step: number,
  receptiveField: number,
  minFrames: number,
): Float32Array | null {
  // frame f describes the centre of its receptive field: [f·step, f·step + rf)
  const offset = Math.round((receptiveField - step) / 2);
  let cleanFrames = 0;
  for (let f = 0; f < frames; f++) if (isAlone(activity, f, speakers, s)) cleanFrames++;
  if (cleanFrames < minFrames) return null;
  const out = new Float32Array(cleanFrames * step);
  let at = 0;
  for (let f = 0; f < frames; f++) {
    if (!isAlone(activity, f, speakers, s)) continue;
    const from = Math.min(window.length, f * step + offset);
    const piece = window.subarray(from, Math.min(window.length, from + step));
    out.set(piece, at);
    at += piece.length;
  }
  return out.subarray(0, at);
}

function isAlone(activity: Float32Array, f: number, speakers: number, s: number): boolean {
  if (activity[f * speakers + s] < 0.5) return false;
  for (let o = 0; o < speakers; o++) if (o !== s && activity[f * speakers + o] >= 0.5) return false;
  return true;
}

function packActive(embeddings: Float32Array, active: Uint8Array, dimension: number): Float32Array {
  let count = 0;
  for (const a of active) count += a;
  const out = new Float32Array(count * dimension);
  let row = 0;
  active.forEach((a, slot) => {
    if (a) out.set(embeddings.subarray(slot * dimension, (slot + 1) * dimension), row++ * dimension);
  });
  return out;
}
