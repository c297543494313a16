/**
 * Speaker clustering of embeddings: L2-normalised, cosine distance, agglomerative with complete,
 * average or centroid linkage, cut at a threshold or at a wanted number of speakers.
 *
 * Up to `exactLimit` embeddings (1500) the dendrogram is exact (O(n²) memory). Beyond that, an hour
 * of windows (~10k embeddings, 58 M pairs) would need ~0.5 GB, so it is two-stage:
 *  (a) farthest-point pre-clustering (Gonzalez k-center): repeatedly promote the embedding farthest
 *      from every leader, until all lie within `preClusterThreshold` of one or `maxGroups` leaders
 *      exist; each embedding joins its nearest leader. Farthest-first (unlike greedy online leader
 *      clustering) gives even a late, rare speaker its own leader early.
 *  (b) exact agglomerative clustering of the groups, each as its mean vector weighted by its size.
 *      Average and centroid linkage of groups equal the member-level values exactly (both only
 *      depend on sums of unit vectors); complete linkage is estimated from the means and each
 *      group's spread (see agglomerative.ts).
 * The result equals the exact one whenever no group straddles two final clusters, which holds for
 * well-separated speakers (tested). It differs when the threshold is below the spread of a group
 * (groups are never split): exact would then leave those embeddings as singletons.
 */
import { type Dendrogram, type Linkage, type WeightedPoints, agglomerate, cutDendrogram } from './agglomerative';
import type { ClusteringOptions } from './diarization-types';

export interface ClusteringTuning {
  /** largest count clustered exactly; default 1500 */
  exactLimit?: number;
  /** most pre-clustering groups for larger inputs; default 128 */
  maxGroups?: number;
  /** pre-clustering radius in cosine distance; default threshold / 2 */
  preClusterThreshold?: number;
}

export interface ClusteringResult {
  /** cluster per embedding, numbered by first appearance */
  labels: Int32Array;
  clusters: number;
  /** clusters × dimension: mean of each cluster's unit-normalised embeddings */
  centroids: Float32Array;
  method: 'exact' | 'two-stage';
  /** points given to the agglomerative stage (embeddings, or pre-clustering groups) */
  points: number;
}

/** pyannote's centroid threshold is a Euclidean distance between unit-vector means; ours is ‖·‖²/2. */
export function euclideanToCentroidThreshold(euclidean: number): number {
  return (euclidean * euclidean) / 2;
}

/** pyannote/speaker-diarization-3.1's clustering: centroid linkage at Euclidean 0.7046 on unit vectors (‖·‖²/2 here). */
export const PYANNOTE_CENTROID_THRESHOLD = euclideanToCentroidThreshold(0.7045654963945799);
/** pyannote/speaker-diarization-3.1's clustering.min_cluster_size. */
export const PYANNOTE_MIN_CLUSTER_SIZE = 12;

/** Row-wise L2 normalisation into a new array; zero rows stay zero. */
export function normalizeEmbeddings(embeddings: Float32Array, dimension: number): Float32Array {
  const n = embeddings.length / dimension;
  const out = new Float32Array(embeddings.length);
  for (let i = 0; i < n; i++) {
    const o = i * dimension;
    let s = 0;
    for (let k = 0; k < dimension; k++) s += embeddings[o + k] * embeddings[o + k];
    if (!Number.isFinite(s)) throw new RangeError(`embedding ${i} is not finite`);
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let k = 0; k < dimension; k++) out[o + k] = embeddings[o + k] * inv;
  }
  return out;
}

export function clusterEmbeddings(embeddings: Float32Array, dimension: number, options: ClusteringOptions, tuning: ClusteringTuning = {}): ClusteringResult {
  if (!Number.isInteger(dimension) || dimension < 1 || embeddings.length % dimension !== 0) {
    throw new RangeError(`embeddings length ${embeddings.length} is not a multiple of dimension ${dimension}`);
  }
  const n = embeddings.length / dimension;
  const linkage: Linkage = options.linkage ?? 'complete';
  const unit = normalizeEmbeddings(embeddings, dimension);
  const exactLimit = tuning.exactLimit ?? 1500;

  let points: WeightedPoints;
  let owner: Int32Array; // point index of each embedding
  if (n <= exactLimit) {
    points = { centroids: Float64Array.from(unit), weights: new Float64Array(n).fill(1), spread: null, count: n, dimension };
    owner = Int32Array.from({ length: n }, (_, i) => i);
  } else {
    const radius = tuning.preClusterThreshold ?? options.threshold / 2;
    const wanted = Math.max(options.numSpeakers ?? 0, options.minSpeakers ?? 0, options.maxSpeakers ?? 0);
    const maxGroups = Math.max(tuning.maxGroups ?? 128, 2 * wanted);
    owner = farthestPointGroups(unit, dimension, maxGroups, radius, wanted);
    points = groupPoints(unit, dimension, owner);
  }

  const minSize = effectiveMinClusterSize(options.minClusterSize ?? 1, n);
  const dendrogram = agglomerate(points, linkage);
  const steps = chooseSteps(dendrogram, points.weights, options, minSize, linkage === 'centroid' ? centroidToEuclidean : (h) => h);
  const flat = cutDendrogram(dendrogram, steps);
  const pointLabels = absorbSmallClusters(flat.labels, flat.clusters, points, minSize);

  // back to embeddings, renumbered by first appearance
  const labels = new Int32Array(n);
  const renumber = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const l = pointLabels[owner[i]];
    let id = renumber.get(l);
    if (id === undefined) {
      id = renumber.size;
      renumber.set(l, id);
    }
    labels[i] = id;
  }
  const clusters = renumber.size;
  return { labels, clusters, centroids: clusterMeans(unit, dimension, labels, clusters), method: n <= exactLimit ? 'exact' : 'two-stage', points: points.count };
}

/** numpy's rint / Python's round for x ≥ 0: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * pyannote's heuristic for short files: min_cluster_size = min(wanted, max(1, round(0.1 · n))), so a
 * file with fewer than 10 × wanted embeddings still gets its speakers (Python's round: 2.5 → 2).
 */
export function effectiveMinClusterSize(wanted: number, embeddings: number): number {
  return Math.min(wanted, Math.max(1, roundHalfEven(0.1 * embeddings)));
}

/** Our centroid heights are ‖·‖²/2 of unit-vector means; pyannote measures them as ‖·‖. */
function centroidToEuclidean(height: number): number {
  return Math.sqrt(2 * Math.max(0, height));
}

/**
 * Number of merges to apply, as pyannote's AgglomerativeClustering.cluster: the threshold cut (merge
 * while the next height ≤ threshold, as scipy's fcluster 'distance'); when its count of large
 * clusters (≥ minSize) is outside [min, max] or differs from numSpeakers, the cuts are visited by
 * the distance of their merge height from the threshold (in pyannote's units: `toPyannote`),
 * skipping merges that form a small cluster, and the first whose count of large clusters is
 * nearest the target wins (stopping at an exact match; all merged when nothing comes closer than 1).
 */
function chooseSteps(dendrogram: Dendrogram, weights: Float64Array, options: ClusteringOptions, minSize: number, toPyannote: (height: number) => number): number {
  const n = dendrogram.count;
  if (n === 0) return 0;
  const merges = n - 1;
  let atThreshold = 0;
  while (atThreshold < merges && dendrogram.heights[atThreshold] <= options.threshold) atThreshold++;

  // large clusters after each number of merges, and the size each merge forms
  const size = Float64Array.from(weights);
  const large = new Int32Array(n);
  const formed = new Float64Array(merges);
  for (let i = 0; i < n; i++) if (size[i] >= minSize) large[0]++;
  for (let s = 0; s < merges; s++) {
    const a = dendrogram.left[s];
    const b = dendrogram.right[s];
    const merged = size[a] + size[b];
    large[s + 1] = large[s] - (size[a] >= minSize ? 1 : 0) - (size[b] >= minSize ? 1 : 0) + (merged >= minSize ? 1 : 0);
    size[b] = merged;
    formed[s] = merged;
  }

  // pyannote's set_num_clusters: bounds clamped to [1, n]
  const fixed = options.numSpeakers;
  const lo = Math.max(1, Math.min(n, fixed ?? options.minSpeakers ?? 1));
  const hi = Math.max(1, Math.min(n, fixed ?? options.maxSpeakers ?? n));
  const found = large[atThreshold];
  let target: number | undefined = lo === hi ? lo : undefined;
  if (found < lo) target = lo;
  else if (found > hi) target = hi;
  if (target === undefined || found === target) return atThreshold;

  const threshold = toPyannote(options.threshold);
  const order = Array.from({ length: merges }, (_, i) => i);
  const away = Float64Array.from(order, (i) => Math.abs(toPyannote(dendrogram.heights[i]) - threshold));
  order.sort((x, y) => away[x] - away[y] || x - y);
  let best = merges; // every merge applied: one cluster
  let bestLarge = 1;
  for (const i of order) {
    if (formed[i] < minSize) continue;
    const count = large[i + 1];
    if (Math.abs(count - target) < Math.abs(bestLarge - target)) {
      best = i + 1;
      bestLarge = count;
    }
    if (count === target) break;
  }
  return best;
}

/** Clusters lighter than minSize join the large cluster with the closest mean (cosine), as pyannote; with no large cluster, all form one. */
function absorbSmallClusters(labels: Int32Array, clusters: number, points: WeightedPoints, minSize: number): Int32Array {
  if (minSize <= 1 || clusters < 2) return labels;
  const d = points.dimension;
  const sums = new Float64Array(clusters * d);
  const weight = new Float64Array(clusters);
  for (let p = 0; p < points.count; p++) {
    const c = labels[p];
    const w = points.weights[p];
    weight[c] += w;
    for (let k = 0; k < d; k++) sums[c * d + k] += w * points.centroids[p * d + k];
  }
  const largeIds: number[] = [];
  for (let c = 0; c < clusters; c++) if (weight[c] >= minSize) largeIds.push(c);
  // no cluster is large enough: pyannote puts everything in one
  if (largeIds.length === 0) return new Int32Array(labels.length);
  if (largeIds.length === clusters) return labels;
  const norm = (c: number): number => {
    let s = 0;
    for (let k = 0; k < d; k++) s += sums[c * d + k] ** 2;
    return Math.sqrt(s) || 1;
  };
  const target = Int32Array.from({ length: clusters }, (_, c) => c);
  for (let c = 0; c < clusters; c++) {
    if (weight[c] >= minSize) continue;
    let best = largeIds[0];
    let bestSim = -Infinity;
    const nc = norm(c);
    for (const l of largeIds) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += sums[c * d + k] * sums[l * d + k];
      const sim = dot / (nc * norm(l));
      if (sim > bestSim) {
        bestSim = sim;
        best = l;
      }
    }
    target[c] = best;
  }
  return labels.map((l) => target[l]);
}

/**
 * Farthest-point pre-clustering; returns the group of each embedding. Costs groups × n dot
 * products, so maxGroups bounds the time.
 */
export function farthestPointGroups(unit: Float32Array, d: number, maxGroups: number, radius: number, minGroups = 0): Int32Array {
  const n = unit.length / d;
  const owner = new Int32Array(n);
  const dist = new Float64Array(n).fill(Infinity);
  let leader = 0;
  for (let g = 0; n > 0; g++) {
    const lo = leader * d;
    let far = -1;
    let farD = -Infinity;
    for (let i = 0; i < n; i++) {
      const o = i * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (; k + 3 < d; k += 4) {
        s0 += unit[o + k] * unit[lo + k];
        s1 += unit[o + k + 1] * unit[lo + k + 1];
        s2 += unit[o + k + 2] * unit[lo + k + 2];
        s3 += unit[o + k + 3] * unit[lo + k + 3];
      }
      for (; k < d; k++) s0 += unit[o + k] * unit[lo + k];
      const v = 1 - (s0 + s1 + s2 + s3);
      if (v < dist[i]) {
        dist[i] = v;
        owner[i] = g;
      }
      if (dist[i] > farD) {
        farD = dist[i];
        far = i;
      }
    }
    const groups = g + 1;
    if (groups >= maxGroups || groups >= n || farD <= 0 || (farD <= radius && groups >= minGroups)) break;
    leader = far;
  }
  return owner;
}

/** Groups as weighted points: mean vector, size, spread (max squared distance of a member to the mean). */
function groupPoints(unit: Float32Array, d: number, owner: Int32Array): WeightedPoints {
  const n = owner.length;
  let count = 0;
  for (let i = 0; i < n; i++) if (owner[i] + 1 > count) count = owner[i] + 1;
  const centroids = new Float64Array(count * d);
  const weights = new Float64Array(count);
  for (let i = 0; i < n; i++) {
    const g = owner[i];
    weights[g]++;
    for (let k = 0; k < d; k++) centroids[g * d + k] += unit[i * d + k];
  }
  const norms = new Float64Array(count);
  for (let g = 0; g < count; g++) {
    let s = 0;
    for (let k = 0; k < d; k++) {
      centroids[g * d + k] /= weights[g];
      s += centroids[g * d + k] ** 2;
    }
    norms[g] = s;
  }
  const spread = new Float64Array(count);
  for (let i = 0; i < n; i++) {
    const g = owner[i];
    let dot = 0;
    let self = 0;
    for (let k = 0; k < d; k++) {
      dot += unit[i * d + k] * centroids[g * d + k];
      self += unit[i * d + k] * unit[i * d + k];
    }
    const r = self - 2 * dot + norms[g];
    if (r > spread[g]) spread[g] = r;
  }
  return { centroids, weights, spread, count, dimension: d };
}

/** Mean of each cluster's rows (d values per row). */
export function clusterMeans(unit: Float32Array, d: number, labels: Int32Array, clusters: number): Float32Array {
  const sums = new Float64Array(clusters * d);
  const counts = new Float64Array(clusters);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    counts[c]++;
    for (let k = 0; k < d; k++) sums[c * d + k] += unit[i * d + k];
  }
  const out = new Float32Array(clusters * d);
  for (let c = 0; c < clusters; c++) for (let k = 0; k < d; k++) out[c * d + k] = sums[c * d + k] / counts[c];
  return out;
}
