/**
 * The diarization pipeline (pyannote/speaker-diarization-3.1's method, sherpa-onnx style, no Python):
 * 10 s windows every second → segmentation (powerset) → per (window, local speaker) an embedding of
 * its speech, picked out of the window's fbank by its mask (overlap-free frames when there are
 * enough) → agglomerative clustering (centroid linkage, min_cluster_size 12) → every local speaker
 * given its closest centroid → overlapping windows stitched into turns.
 */
import { throwIfCancelled } from '@app/contracts';
import { assignWindowSpeakers } from './window-assignment';
import { clusterEmbeddings, clusterMeans, PYANNOTE_CENTROID_THRESHOLD, PYANNOTE_MIN_CLUSTER_SIZE } from './clustering';
import { ClusteringOptions, SpeakerTurn, WindowActivity } from './diarization-types';
import { SpeakerEmbeddingModel } from './embedding-model';
import { Fbank } from './fbank';
import { fbankFramesOfMask, minFbankFrames, minSegmentationFrames, probeMinNumSamples, probeNoise, selectRows, speakerMask, windowFbanks } from './masked-embedding';
import { decodePowerset } from './powerset';
import { SegmentationModel } from './segmentation-model';
import { slidingWindowStarts, stitchTurns } from './stitching';

export interface DiarizeOptions {
  minSpeakers?: number;
  maxSpeakers?: number;
  /** clustering threshold; default: pyannote 3.1's tuned centroid-linkage value for WeSpeaker embeddings */
  threshold?: number;
  linkage?: ClusteringOptions['linkage'];
  /** pyannote's min_cluster_size: smaller clusters join the closest large one; default 12 (pyannote 3.1), lowered to 10 % of the embeddings for short files */
  minClusterSize?: number;
  /**
   * how local speakers get clusters: 'argmax' (each to its closest centroid, pyannote 3.1's default,
   * constrained_assignment=False) or 'hungarian' (two local speakers of a window never share a
   * cluster, constrained_assignment=True); default 'argmax'
   */
  assignment?: 'argmax' | 'hungarian';
  /** drop turns shorter than this, seconds (pyannote min_duration_on); default 0 as pyannote 3.1 (0.3 before) */
  minDurationOn?: number;
  /** fill same-speaker gaps shorter than this, seconds (pyannote min_duration_off); default 0 as pyannote 3.1 (0.5 before) */
  minDurationOff?: number;
  /** embed only overlap-free speech when there is enough of it (pyannote embedding_exclude_overlap); default true as 3.1 */
  excludeOverlap?: boolean;
  /** shortest audio the embedding model can embed (pyannote's min_num_samples); default: probed from the model once */
  embeddingMinSamples?: number;
  stepSeconds?: number;
  /** windows per segmentation run (a model exported with a fixed batch runs in groups of that size) */
  batchSize?: number;
  onProgress?: (fraction: number) => void;
  /** checked between segmentation batches: aborted → JobCancelledError */
  signal?: AbortSignal;
}

export interface DiarizeResult {
  turns: SpeakerTurn[];
  windows: number;
  embeddings: number;
  /** embeddings from a speaker's full mask (overlap included) because its clean speech was too short */
  overlapEmbeddings: number;
}

export interface DiarizationModels {
  segmentation: SegmentationModel;
  embedding: SpeakerEmbeddingModel;
}

/** pyannote/speaker-diarization-3.1: centroid linkage, euclidean threshold 0.7046 on unit vectors. */
export const DEFAULT_CLUSTERING_THRESHOLD = PYANNOTE_CENTROID_THRESHOLD;
/** pyannote/speaker-diarization-3.1's clustering.min_cluster_size. */
export const DEFAULT_MIN_CLUSTER_SIZE = PYANNOTE_MIN_CLUSTER_SIZE;

const minSamplesProbes = new WeakMap<SpeakerEmbeddingModel, Promise<number>>();

/**
 * pyannote's min_num_samples of an embedding model, probed once per model (about 12 runs on inputs
 * under 0.5 s): the shortest random input with at least one fbank frame and a finite embedding.
 */
export function embeddingMinSamples(model: SpeakerEmbeddingModel): Promise<number> {
  let probe = minSamplesProbes.get(model);
  if (!probe) {
    probe = probeMinNumSamples(async (samples) => {
      const fbank = model.fbank(probeNoise(samples));
      if (fbank.frames === 0) return false;
      try {
        const embedding = await model.embedFeatures(fbank.features, fbank.frames);
        return embedding.every(Number.isFinite);
      } catch {
        return false; // e.g. a convolution longer than the input
      }
    });
    minSamplesProbes.set(model, probe);
    probe.catch(() => minSamplesProbes.delete(model));
  }
  return probe;
}

export async function diarize(pcm: Float32Array, models: DiarizationModels, options: DiarizeOptions = {}): Promise<DiarizeResult> {
  const geometry = models.segmentation.geometry;
  const { windowSamples, sampleRate } = geometry;
  const starts = slidingWindowStarts(pcm.length, sampleRate, windowSamples / sampleRate, options.stepSeconds ?? 1);
  if (starts.length === 0) return { turns: [], windows: 0, embeddings: 0, overlapEmbeddings: 0 };
  const batchSize = models.segmentation.fixedBatch ?? options.batchSize ?? 8;
  const excludeOverlap = options.excludeOverlap ?? true;
  const minSamples = options.embeddingMinSamples ?? (await embeddingMinSamples(models.embedding));
  const minFbankRows = minFbankFrames(minSamples);
  const windows: WindowActivity[] = [];
  const localSpeakers = 3;
  const active = new Uint8Array(starts.length * localSpeakers);
  // filled as embeddings arrive; the dimension is known after the first one
  let embeddings = new Float32Array(0);
  let dimension = 0;
  let embedded = 0;
  let overlapEmbeddings = 0;
  const batch = new Float32Array(batchSize * windowSamples);
  const windowStarts = starts.map((t) => Math.round(t * sampleRate));

  for (let first = 0; first < starts.length; first += batchSize) {
    throwIfCancelled(options.signal);
    const count = Math.min(batchSize, starts.length - first);
    const input = batch.subarray(0, count * windowSamples);
    input.fill(0);
    for (let k = 0; k < count; k++) {
      const from = windowStarts[first + k];
      input.set(pcm.subarray(from, Math.min(pcm.length, from + windowSamples)), k * windowSamples);
    }
    const { logProbs, frames } = await models.segmentation.run(input, count);
    const minCleanFrames = minSegmentationFrames(minSamples, frames, windowSamples);
    // the whole (zero-padded) windows' fbanks, computed over the batch's span once a speaker needs one
    let fbanks: Fbank[] | undefined;
    for (let k = 0; k < count; k++) {
      const w = first + k;
      const decoded = decodePowerset(logProbs.subarray(k * frames * geometry.classes, (k + 1) * frames * geometry.classes), frames);
      windows.push({ start: starts[w], activity: decoded.activity, frames, speakers: decoded.speakers });
      for (let s = 0; s < localSpeakers; s++) {
        const chosen = speakerMask(decoded.activity, frames, decoded.speakers, s, minCleanFrames, excludeOverlap);
        if (!chosen) continue;
        fbanks ??= windowFbanks(pcm, windowStarts.slice(first, first + count), windowSamples, (x, mean) => models.embedding.fbank(x, mean), models.embedding.features.normalizeMean);
        const fbank = fbanks[k];
        const rows = fbankFramesOfMask(chosen.mask, fbank.frames);
        if (rows.length < minFbankRows) continue; // pyannote: NaN embedding
        const embedding = await models.embedding.embedFeatures(selectRows(fbank.features, fbank.bins, rows), rows.length);
        if (!embedding.every(Number.isFinite)) continue;
        if (dimension === 0) {
          dimension = embedding.length;
          embeddings = new Float32Array(starts.length * localSpeakers * dimension);
        }
        embeddings.set(embedding, (w * localSpeakers + s) * dimension);
        active[w * localSpeakers + s] = 1;
        embedded++;
        if (!chosen.clean) overlapEmbeddings++;
      }
    }
    options.onProgress?.(Math.min(1, (first + count) / starts.length) * 0.9);
  }
  if (embedded === 0) return { turns: [], windows: windows.length, embeddings: 0, overlapEmbeddings: 0 };

  const rows = packActive(embeddings, active, dimension);
  const fixed = options.minSpeakers !== undefined && options.minSpeakers === options.maxSpeakers ? options.minSpeakers : undefined;
  const clusters = clusterEmbeddings(rows, dimension, {
    threshold: options.threshold ?? DEFAULT_CLUSTERING_THRESHOLD,
    linkage: options.linkage ?? 'centroid',
    numSpeakers: fixed,
    minSpeakers: options.minSpeakers,
    maxSpeakers: options.maxSpeakers,
    minClusterSize: options.minClusterSize ?? DEFAULT_MIN_CLUSTER_SIZE,
  });
  const labels = assignWindowSpeakers({
    embeddings,
    dimension,
    localSpeakers,
    // pyannote's assign_embeddings: centroids are means of the raw (not unit-normalised) embeddings
    // the mean of the embeddings as they came from the model, as pyannote computes them
    centroids: clusterMeans(rows, dimension, clusters.labels, clusters.clusters),
    active,
    constrained: (options.assignment ?? 'argmax') === 'hungarian',
  });
  const { turns } = stitchTurns(windows, labels, {
    geometry: { sampleRate, step: geometry.frameStep, receptiveField: geometry.receptiveField },
    duration: pcm.length / sampleRate,
    minDurationOn: options.minDurationOn ?? 0,
    mergeGap: options.minDurationOff ?? 0,
    // pyannote caps the per-frame speaker count at max_speakers
    maxSpeakersPerFrame: options.maxSpeakers,
  });
  options.onProgress?.(1);
  return { turns, windows: windows.length, embeddings: embedded, overlapEmbeddings };
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
