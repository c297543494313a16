/**
 * pyannote's last clustering step (assign_embeddings): every active (window, local speaker)
 * embedding goes to the most similar cluster centroid (argmax; pyannote 3.1's default, which
 * diarize() uses) — or, when constrained (constrained_argmax), two local speakers of one window
 * never share a cluster (a Hungarian assignment per window).
 */
import { maxWeightAssignment } from './hungarian';

export interface WindowAssignmentInput {
  /** windows × localSpeakers × dimension; rows of inactive slots are ignored */
  embeddings: Float32Array;
  dimension: number;
  localSpeakers: number;
  /** clusters × dimension (e.g. ClusteringResult.centroids) */
  centroids: Float32Array;
  /** windows × localSpeakers: 1 where the slot has speech and a usable embedding */
  active: Uint8Array;
  /** Hungarian per window instead of argmax; default true here, diarize() passes false (pyannote 3.1) */
  constrained?: boolean;
}

/** Cluster per (window, local speaker), -1 for inactive slots (and slots left over when a window has more speakers than there are clusters). */
export function assignWindowSpeakers(input: WindowAssignmentInput): Int32Array {
  const { embeddings, dimension: d, localSpeakers: L, centroids, active } = input;
  const clusters = centroids.length / d;
  const windows = active.length / L;
  if (embeddings.length !== active.length * d) throw new RangeError('embeddings must be windows × localSpeakers × dimension');
  const labels = new Int32Array(active.length).fill(-1);
  if (clusters === 0) return labels;
  const centroidNorm = new Float64Array(clusters);
  for (let c = 0; c < clusters; c++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += centroids[c * d + k] ** 2;
    centroidNorm[c] = Math.sqrt(s) || 1;
  }
  const slots: number[] = [];
  const similarity = new Float64Array(L * clusters);
  for (let w = 0; w < windows; w++) {
    slots.length = 0;
    for (let s = 0; s < L; s++) if (active[w * L + s]) slots.push(w * L + s);
    if (slots.length === 0) continue;
    slots.forEach((row, r) => {
      let norm = 0;
      for (let k = 0; k < d; k++) norm += embeddings[row * d + k] ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let c = 0; c < clusters; c++) {
        let dot = 0;
        for (let k = 0; k < d; k++) dot += embeddings[row * d + k] * centroids[c * d + k];
        // pyannote scores 2 − cosine distance: positive, so the matching prefers assigning everyone
        similarity[r * clusters + c] = 1 + dot / (norm * centroidNorm[c]);
      }
    });
    if (input.constrained ?? true) {
      const match = maxWeightAssignment(similarity.subarray(0, slots.length * clusters), slots.length, clusters);
      slots.forEach((row, r) => (labels[row] = match[r]));
    } else {
      slots.forEach((row, r) => {
        let best = 0;
        for (let c = 1; c < clusters; c++) if (similarity[r * clusters + c] > similarity[r * clusters + best]) best = c;
        labels[row] = best;
      });
    }
  }
  return labels;
}
