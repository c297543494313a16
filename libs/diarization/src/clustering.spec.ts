import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import type { Linkage } from './agglomerative';
import { clusterEmbeddings, effectiveMinClusterSize, euclideanToCentroidThreshold, normalizeEmbeddings, PYANNOTE_MIN_CLUSTER_SIZE } from './clustering';

/** Deterministic gaussian noise (mulberry32 + Box–Muller). */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
  };
  const { sqrt, log, cos, PI } = Math; // locals: global lookups are slow inside jest's sandbox
  return () => sqrt(-2 * log(uniform())) * cos(2 * PI * uniform());
}

/** n embeddings around `speakers` random directions, speaker of each returned too. */
function synthetic(n: number, d: number, speakers: number, noise: number, seed: number): { x: Float32Array; truth: number[] } {
  const g = gaussian(seed);
  const dirs = Array.from({ length: speakers }, () => Array.from({ length: d }, g));
  const norms = dirs.map((v) => Math.hypot(...v));
  const x = new Float32Array(n * d);
  const truth: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = Math.floor(Math.abs(g() * 1000)) % speakers;
    truth.push(s);
    for (let k = 0; k < d; k++) x[i * d + k] = dirs[s][k] / norms[s] + noise * g();
  }
  return { x, truth };
}

/** Same partition up to renaming. */
function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((ab.get(a[i]) ?? b[i]) !== b[i] || (ba.get(b[i]) ?? a[i]) !== a[i]) return false;
    ab.set(a[i], b[i]);
    ba.set(b[i], a[i]);
  }
  return true;
}

/**
 * Textbook O(n³) agglomerative clustering that recomputes every cluster distance from its members:
 * complete = max pairwise cosine distance, average = mean pairwise, centroid = ‖mean − mean‖²/2.
 */
function naiveAgglomerative(x: Float32Array, d: number, linkage: Linkage, threshold: number): number[] {
  const n = x.length / d;
  const u = normalizeEmbeddings(x, d);
  const vec = (i: number) => Array.from(u.subarray(i * d, i * d + d));
  const cos = (i: number, j: number) => 1 - vec(i).reduce((s, v, k) => s + v * u[j * d + k], 0);
  const mean = (c: number[]) => Array.from({ length: d }, (_, k) => c.reduce((s, i) => s + u[i * d + k], 0) / c.length);
  const dist = (a: number[], b: number[]): number => {
    if (linkage === 'centroid') {
      const ma = mean(a);
      const mb = mean(b);
      return ma.reduce((s, v, k) => s + (v - mb[k]) ** 2, 0) / 2;
    }
    const all = a.flatMap((i) => b.map((j) => cos(i, j)));
    return linkage === 'complete' ? Math.max(...all) : all.reduce((s, v) => s + v, 0) / all.length;
  };
  const clusters: number[][] = Array.from({ length: n }, (_, i) => [i]);
  while (clusters.length > 1) {
    let best = [0, 1];
    let bestD = Infinity;
    for (let i = 0; i < clusters.length; i++) {
      for (let j = i + 1; j < clusters.length; j++) {
        const v = dist(clusters[i], clusters[j]);
        if (v < bestD) {
          bestD = v;
          best = [i, j];
        }
      }
    }
    if (bestD > threshold) break;
    clusters[best[0]] = clusters[best[0]].concat(clusters[best[1]]);
    clusters.splice(best[1], 1);
  }
  const labels = new Array<number>(n);
  clusters.forEach((c, id) => c.forEach((i) => (labels[i] = id)));
  return labels;
}

/** Unit vectors in the plane at the given angles (degrees). */
function angles(...deg: number[]): Float32Array {
  return Float32Array.from(deg.flatMap((a) => [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180)]));
}

describe('clusterEmbeddings', () => {
  it('handles 0 and 1 embeddings', () => {
    const none = clusterEmbeddings(new Float32Array(0), 4, { threshold: 0.5 });
    expect(none.clusters).toBe(0);
    expect(none.labels).toHaveLength(0);
    const one = clusterEmbeddings(Float32Array.from([1, 2, 3, 4]), 4, { threshold: 0.5, numSpeakers: 3 });
    expect(Array.from(one.labels)).toEqual([0]);
    expect(one.clusters).toBe(1);
    expect(one.centroids).toHaveLength(4);
  });

  it('rejects a length that is not a multiple of the dimension', () => {
    expect(() => clusterEmbeddings(new Float32Array(5), 2, { threshold: 0.5 })).toThrow(RangeError);
  });

  it('cuts at the threshold: two tight groups in the plane, far apart (hand-checkable)', () => {
    // 0°, 10°, 20° vs 90°, 100°: cosine distances within ≤ 1 − cos 20° ≈ 0.06, across ≥ 1 − cos 70° ≈ 0.66
    const x = angles(90, 0, 10, 100, 20);
    const out = clusterEmbeddings(x, 2, { threshold: 0.3 });
    expect(Array.from(out.labels)).toEqual([0, 1, 1, 0, 1]); // first embedding's cluster is 0
    expect(out.clusters).toBe(2);
    // centroid of cluster 0 = mean of the 90° and 100° unit vectors
    expect(out.centroids[0]).toBeCloseTo((Math.cos(Math.PI / 2) + Math.cos((100 * Math.PI) / 180)) / 2, 5);
    expect(clusterEmbeddings(x, 2, { threshold: 0.01 }).clusters).toBe(5);
    expect(clusterEmbeddings(x, 2, { threshold: 2 }).clusters).toBe(1);
  });

  it('complete vs average vs centroid differ where they should', () => {
    // chain 0°, 40°, 80°: complete joins all only when 1 − cos 80° ≈ 0.826 ≤ threshold
    const x = angles(0, 40, 80);
    expect(clusterEmbeddings(x, 2, { threshold: 0.5, linkage: 'complete' }).clusters).toBe(2);
    // average distance of 80° to {0°, 40°} = (0.826 + 0.234)/2 = 0.53
    expect(clusterEmbeddings(x, 2, { threshold: 0.54, linkage: 'average' }).clusters).toBe(1);
    expect(clusterEmbeddings(x, 2, { threshold: 0.52, linkage: 'average' }).clusters).toBe(2);
    // centroid: mean of 0° and 40° vs 80°, ‖·‖²/2
    const m = [(1 + Math.cos((40 * Math.PI) / 180)) / 2, Math.sin((40 * Math.PI) / 180) / 2];
    const c = ((m[0] - Math.cos((80 * Math.PI) / 180)) ** 2 + (m[1] - Math.sin((80 * Math.PI) / 180)) ** 2) / 2;
    expect(clusterEmbeddings(x, 2, { threshold: c + 1e-6, linkage: 'centroid' }).clusters).toBe(1);
    expect(clusterEmbeddings(x, 2, { threshold: c - 1e-6, linkage: 'centroid' }).clusters).toBe(2);
  });

  it("converts pyannote's Euclidean centroid threshold", () => {
    expect(euclideanToCentroidThreshold(0.7045654963945799)).toBeCloseTo(0.2482, 4);
    // for two unit vectors ‖a − b‖²/2 is their cosine distance
    expect(euclideanToCentroidThreshold(Math.SQRT2)).toBeCloseTo(1, 12);
  });

  it('numSpeakers forces exactly k clusters when there are at least k embeddings', () => {
    const x = angles(0, 10, 20, 90, 100, 180, 190);
    expect(clusterEmbeddings(x, 2, { threshold: 0.3, numSpeakers: 2 }).clusters).toBe(2);
    expect(clusterEmbeddings(x, 2, { threshold: 0.3, numSpeakers: 5 }).clusters).toBe(5);
    // more speakers than embeddings: pyannote clamps the target to the 7 embeddings, and its search
    // over merges (at least one applied) gets closest with 6
    expect(clusterEmbeddings(x, 2, { threshold: 0.3, numSpeakers: 9 }).clusters).toBe(6);
    expect(clusterEmbeddings(x, 2, { threshold: 0.01, numSpeakers: 9 }).clusters).toBe(7); // the threshold cut already has 7
    expect(Array.from(clusterEmbeddings(x, 2, { threshold: 0, numSpeakers: 3 }).labels)).toEqual([0, 0, 0, 1, 1, 2, 2]);
  });

  it('clamps the threshold count into [minSpeakers, maxSpeakers]', () => {
    const x = angles(0, 10, 20, 90, 100, 180, 190);
    expect(clusterEmbeddings(x, 2, { threshold: 0.3 }).clusters).toBe(3);
    expect(clusterEmbeddings(x, 2, { threshold: 0.3, maxSpeakers: 2 }).clusters).toBe(2);
    expect(clusterEmbeddings(x, 2, { threshold: 0.3, minSpeakers: 4 }).clusters).toBe(4);
    expect(clusterEmbeddings(x, 2, { threshold: 0.3, minSpeakers: 2, maxSpeakers: 4 }).clusters).toBe(3);
  });

  it('minClusterSize: a lone outlier joins the closest large cluster instead of becoming a speaker', () => {
    const x = angles(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 90, 92, 94, 96, 98, 100, 102, 104, 106, 108, 60);
    const plain = clusterEmbeddings(x, 2, { threshold: 0.05 });
    expect(plain.clusters).toBe(3);
    const pyannote = clusterEmbeddings(x, 2, { threshold: 0.05, minClusterSize: 2 });
    expect(pyannote.clusters).toBe(2);
    expect(pyannote.labels[20]).toBe(pyannote.labels[10]); // 60° is closer to the 90°–108° group
  });

  it("min_cluster_size for short files is pyannote's min(wanted, max(1, round(0.1·n))) with Python's round", () => {
    expect(PYANNOTE_MIN_CLUSTER_SIZE).toBe(12);
    const cases: Array<[number, number]> = [
      [0, 1],
      [4, 1],
      [5, 1], // round(0.5) = 0 → 1
      [15, 2], // round(1.5) = 2
      [25, 2], // round(2.5) = 2, not 3
      [35, 4],
      [105, 10], // round(10.5) = 10
      [115, 12],
      [125, 12], // round(12.5) = 12
      [1000, 12],
    ];
    for (const [n, size] of cases) expect([n, effectiveMinClusterSize(12, n)]).toEqual([n, size]);
    expect(effectiveMinClusterSize(1, 1000)).toBe(1);
  });

  /** `count` unit vectors evenly spread over [from, to] degrees. */
  const fan = (count: number, from: number, to: number): number[] => Array.from({ length: count }, (_, i) => from + ((to - from) * i) / Math.max(1, count - 1));

  it('min_cluster_size 12: a cluster of 5 is not a speaker; it joins the large cluster with the closest centroid', () => {
    // 60 embeddings around 0°, 60 around 90°, 5 around 60° (n = 125 → the size stays 12)
    const x = angles(...fan(60, 0, 12), ...fan(60, 90, 102), ...fan(5, 58, 62));
    const threshold = euclideanToCentroidThreshold(0.3); // ≈ 17°: the three groups stay apart
    const plain = clusterEmbeddings(x, 2, { threshold, linkage: 'centroid' });
    expect(plain.clusters).toBe(3);
    const pyannote = clusterEmbeddings(x, 2, { threshold, linkage: 'centroid', minClusterSize: 12 });
    expect(pyannote.clusters).toBe(2);
    expect(new Set(Array.from(pyannote.labels.subarray(120)))).toEqual(new Set([pyannote.labels[60]])); // 60° is nearer 96° than 6°
    expect(pyannote.labels[0]).not.toBe(pyannote.labels[60]);
    // the same 5 at 30° go to the 0° group instead
    const nearFirst = clusterEmbeddings(angles(...fan(60, 0, 12), ...fan(60, 90, 102), ...fan(5, 28, 32)), 2, { threshold, linkage: 'centroid', minClusterSize: 12 });
    expect(new Set(Array.from(nearFirst.labels.subarray(120)))).toEqual(new Set([nearFirst.labels[0]]));
    // 11 members are still small, 12 make a speaker
    expect(clusterEmbeddings(angles(...fan(60, 0, 12), ...fan(60, 90, 102), ...fan(11, 58, 62)), 2, { threshold, linkage: 'centroid', minClusterSize: 12 }).clusters).toBe(2);
    expect(clusterEmbeddings(angles(...fan(60, 0, 12), ...fan(60, 90, 102), ...fan(12, 58, 62)), 2, { threshold, linkage: 'centroid', minClusterSize: 12 }).clusters).toBe(3);
  });

  it('min_cluster_size is lowered for short files: 3 speakers × 10 embeddings stay 3 speakers', () => {
    const x = angles(...fan(10, 0, 4), ...fan(10, 60, 64), ...fan(10, 120, 124));
    const threshold = euclideanToCentroidThreshold(0.3);
    // n = 30 → min_cluster_size min(12, round(3)) = 3
    expect(clusterEmbeddings(x, 2, { threshold, linkage: 'centroid', minClusterSize: 12 }).clusters).toBe(3);
  });

  it('min_cluster_size with a speaker count to reach: only large clusters count, small ones are absorbed', () => {
    // a wide 0°–59° fan (splittable), a 90° group and 5 strays at 150°
    const x = angles(...fan(60, 0, 59), ...fan(60, 90, 95), ...fan(5, 150, 152));
    const threshold = euclideanToCentroidThreshold(1.0);
    const two = clusterEmbeddings(x, 2, { threshold, linkage: 'centroid', minClusterSize: 12 });
    expect(two.clusters).toBe(2);
    const three = clusterEmbeddings(x, 2, { threshold, linkage: 'centroid', minClusterSize: 12, minSpeakers: 3 });
    expect(three.clusters).toBe(3);
    const sizes = Array.from({ length: three.clusters }, (_, c) => three.labels.filter((l) => l === c).length);
    for (const size of sizes) expect(size).toBeGreaterThanOrEqual(12);
    // the 90° group is one cluster: the third speaker comes from splitting the fan, not from the strays
    expect(new Set(Array.from(three.labels.subarray(60, 120))).size).toBe(1);
  });

  it('property: the exact path equals a textbook O(n³) implementation (all linkages)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 10 }),
        fc.constantFrom<Linkage>('complete', 'average', 'centroid'),
        fc.double({ min: 0.001, max: 1.5, noNaN: true }), // not 0: rounding decides ties with duplicates
        (rows, linkage, threshold) => {
          const x = Float32Array.from(rows.flatMap((r) => [r[0] + 1e-3, r[1], r[2]]));
          const fast = clusterEmbeddings(x, 3, { threshold, linkage });
          expect(samePartition(fast.labels, naiveAgglomerative(x, 3, linkage, threshold))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each<Linkage>(['complete', 'average', 'centroid'])('two-stage equals exact on well-separated speakers (%s)', (linkage) => {
    const { x, truth } = synthetic(2400, 32, 6, 0.06, 42);
    const threshold = linkage === 'centroid' ? 0.3 : 0.6;
    const exact = clusterEmbeddings(x, 32, { threshold, linkage }, { exactLimit: Infinity });
    const fast = clusterEmbeddings(x, 32, { threshold, linkage });
    expect(exact.method).toBe('exact');
    expect(fast.method).toBe('two-stage');
    expect(fast.points).toBeLessThanOrEqual(128);
    expect(Array.from(fast.labels)).toEqual(Array.from(exact.labels));
    expect(samePartition(fast.labels, truth)).toBe(true);
    // with a fixed count too
    const k = clusterEmbeddings(x, 32, { threshold, linkage, numSpeakers: 4 });
    expect(Array.from(k.labels)).toEqual(Array.from(clusterEmbeddings(x, 32, { threshold, linkage, numSpeakers: 4 }, { exactLimit: Infinity }).labels));
  });

  it('a rare speaker who appears only at the end still gets a cluster in the two-stage path', () => {
    const d = 32;
    const common = synthetic(3000, d, 3, 0.05, 7);
    const rare = synthetic(15, d, 1, 0.05, 99);
    const x = new Float32Array((3000 + 15) * d);
    x.set(common.x);
    x.set(rare.x, 3000 * d);
    const out = clusterEmbeddings(x, d, { threshold: 0.6 });
    expect(out.clusters).toBe(4);
    const rareLabel = out.labels[3000];
    for (let i = 3000; i < 3015; i++) expect(out.labels[i]).toBe(rareLabel);
    for (let i = 0; i < 3000; i++) expect(out.labels[i]).not.toBe(rareLabel);
  });

  it('clusters an hour of windows (10,800 × 256) in well under a second', () => {
    const { x, truth } = synthetic(10_800, 256, 5, 0.04, 3);
    clusterEmbeddings(x.subarray(0, 2000 * 256), 256, { threshold: 0.6 }); // JIT warm-up
    const t0 = performance.now();
    const out = clusterEmbeddings(x, 256, { threshold: 0.6 });
    const ms = performance.now() - t0;
    console.log(`clustering: 10,800 × 256 embeddings in ${ms.toFixed(0)} ms (${out.method}, ${out.points} groups, ${out.clusters} clusters)`);
    expect(samePartition(out.labels, truth)).toBe(true);
    expect(ms).toBeLessThan(2000); // the target is < 1 s; slack for a loaded CI machine
  });
});
