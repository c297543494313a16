/**
 * Exact hierarchical agglomerative clustering of weighted points (the "generic" algorithm of
 * Müllner, "Modern hierarchical, agglomerative clustering algorithms", 2011): a heap of lower
 * bounds on each point's nearest later neighbour, checked lazily. It stays correct for centroid
 * linkage, which is not reducible (so the nearest-neighbour chain cannot be used), and needs
 * O(n²) memory for the condensed distance matrix: meant for n up to a few thousand.
 */
import { IndexedMinHeap } from './min-heap';

export type Linkage = 'complete' | 'average' | 'centroid';

/**
 * Points to cluster. For single unit-norm embeddings: weight 1, spread 0. For pre-clustered groups:
 * the group's mean vector (not renormalised), its size, and its spread (max squared distance of a
 * member from the mean), so group distances approximate the member-level linkage.
 */
export interface WeightedPoints {
  /** count × dimension */
  centroids: Float64Array;
  weights: Float64Array;
  /** per point; null = all zero */
  spread: Float64Array | null;
  count: number;
  dimension: number;
}

/** Merge s joined the clusters represented by point ids left[s] and right[s] (right survives). */
export interface Dendrogram {
  left: Int32Array;
  right: Int32Array;
  heights: Float64Array;
  /** number of points */
  count: number;
}

/**
 * Distances, all in cosine-distance units (1 − cos for two unit vectors):
 * - average: mean pairwise cosine distance = 1 − cᵢ·cⱼ (exact for groups of unit vectors);
 * - centroid: ‖cᵢ − cⱼ‖² / 2 — pyannote's Euclidean centroid linkage on unit vectors, squared and
 *   halved so a threshold t there is t²/2 here (same merge order, monotone transform);
 * - complete: max pairwise cosine distance; for groups it is estimated as (‖cᵢ − cⱼ‖² + Rᵢ + Rⱼ)/2,
 *   the high-dimensional (near-orthogonal residuals) value of the farthest pair.
 */
function initialDistance(p: WeightedPoints, linkage: Linkage, i: number, j: number, norms: Float64Array): number {
  const { centroids: c, dimension: d } = p;
  const oi = i * d;
  const oj = j * d;
  let dot = 0;
  for (let k = 0; k < d; k++) dot += c[oi + k] * c[oj + k];
  if (linkage === 'average' || (linkage === 'complete' && !p.spread)) return 1 - dot;
  const half = (norms[i] + norms[j] - 2 * dot) / 2;
  if (linkage === 'centroid' || !p.spread) return half;
  return half + (p.spread[i] + p.spread[j]) / 2;
}

export function agglomerate(points: WeightedPoints, linkage: Linkage): Dendrogram {
  const n = points.count;
  const merges = Math.max(n - 1, 0);
  const left = new Int32Array(merges);
  const right = new Int32Array(merges);
  const heights = new Float64Array(merges);
  if (n < 2) return { left, right, heights, count: n };

  const d = points.dimension;
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += points.centroids[i * d + k] ** 2;
    norms[i] = s;
  }
  // condensed upper triangle: D(i, j), i < j, at rowBase[i] + j
  const rowBase = new Float64Array(n);
  for (let i = 0; i < n; i++) rowBase[i] = i * n - (i * (i + 1)) / 2 - i - 1;
  const D = new Float64Array((n * (n - 1)) / 2);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) D[rowBase[i] + j] = initialDistance(points, linkage, i, j, norms);
  const at = (i: number, j: number): number => (i < j ? rowBase[i] + j : rowBase[j] + i);

  const active = new Uint8Array(n).fill(1);
  const size = Float64Array.from(points.weights);
  const nn = new Int32Array(n).fill(-1);
  // lower bound on min_{y > x, active} D(x, y); exact after findNearest
  const mind = new Float64Array(n);
  const heap = new IndexedMinHeap(n, mind);

  const findNearest = (x: number): boolean => {
    let best = -1;
    let bestD = Infinity;
    const base = rowBase[x];
    for (let y = x + 1; y < n; y++) {
      if (!active[y]) continue;
      const v = D[base + y];
      if (v < bestD) {
        bestD = v;
        best = y;
      }
    }
    nn[x] = best;
    mind[x] = bestD;
    return best >= 0;
  };

  for (let x = 0; x < n - 1; x++) {
    findNearest(x);
    heap.push(x);
  }

  for (let step = 0; step < merges; step++) {
    let a = heap.top();
    let b = nn[a];
    // a stale bound is recomputed and re-queued until the top is exact: then it is the global minimum
    while (!(b >= 0 && active[b] && D[at(a, b)] === mind[a])) {
      if (a < 0) throw new Error('agglomerate: no pair left to merge'); // unreachable while ≥ 2 clusters are active
      if (findNearest(a)) heap.update(a);
      else heap.remove(a);
      a = heap.top();
      b = nn[a];
    }
    const dab = mind[a];
    left[step] = a;
    right[step] = b;
    heights[step] = dab;
    active[a] = 0;
    heap.remove(a);

    const na = size[a];
    const nb = size[b];
    const nt = na + nb;
    for (let x = 0; x < n; x++) {
      if (!active[x] || x === b) continue;
      const ixa = at(x, a);
      const ixb = at(x, b);
      const dxa = D[ixa];
      const dxb = D[ixb];
      let v: number;
      if (linkage === 'complete') v = dxa > dxb ? dxa : dxb;
      else if (linkage === 'average') v = (na * dxa + nb * dxb) / nt;
      else v = (na * dxa + nb * dxb) / nt - (na * nb * dab) / (nt * nt);
      D[ixb] = v;
      if (x < b) {
        if (nn[x] === a) nn[x] = b; // a is gone; the bound in mind[x] stays a valid lower bound
        if (v < mind[x]) {
          mind[x] = v;
          nn[x] = b;
          heap.update(x);
        }
      }
    }
    size[b] = nt;
    if (findNearest(b)) heap.push(b);
    else heap.remove(b);
  }
  return { left, right, heights, count: n };
}

/** Cluster id per point after the first `steps` merges, ids in order of first appearance. */
export function cutDendrogram(dendrogram: Dendrogram, steps: number): { labels: Int32Array; clusters: number } {
  const n = dendrogram.count;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  for (let s = 0; s < steps; s++) parent[find(dendrogram.left[s])] = find(dendrogram.right[s]);
  const labels = new Int32Array(n);
  const ids = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const root = find(i);
    let id = ids.get(root);
    if (id === undefined) {
      id = ids.size;
      ids.set(root, id);
    }
    labels[i] = id;
  }
  return { labels, clusters: ids.size };
}
