/**
 * Powerset decoding of pyannote segmentation-3.0: the model scores 7 classes per frame,
 * {∅, {0}, {1}, {2}, {0,1}, {0,2}, {1,2}} (3 local speakers, at most 2 at once), as log-probabilities.
 */

export interface PowersetSpec {
  /** local speakers; 3 for segmentation-3.0 */
  speakers: number;
  /** largest simultaneous set; 2 for segmentation-3.0 */
  maxSetSize: number;
}

export const SEGMENTATION_3_POWERSET: PowersetSpec = { speakers: 3, maxSetSize: 2 };

export interface PowersetDecodeOptions extends Partial<PowersetSpec> {
  /** marginal probabilities P(speaker active) instead of the argmax class (pyannote's default is hard) */
  soft?: boolean;
}

export interface DecodedActivity {
  /** frames × speakers, row-major */
  activity: Float32Array;
  frames: number;
  speakers: number;
}

/**
 * Classes × speakers 0/1 matrix, classes ordered as pyannote's Powerset: by set size, then
 * lexicographically (itertools.combinations order).
 */
export function powersetMapping(spec: PowersetSpec = SEGMENTATION_3_POWERSET): { mapping: Uint8Array; classes: number } {
  const sets: number[][] = [];
  const combine = (size: number, from: number, prefix: number[]): void => {
    if (prefix.length === size) {
      sets.push(prefix.slice());
      return;
    }
    for (let s = from; s < spec.speakers; s++) {
      prefix.push(s);
      combine(size, s + 1, prefix);
      prefix.pop();
    }
  };
  for (let size = 0; size <= spec.maxSetSize; size++) combine(size, 0, []);
  const mapping = new Uint8Array(sets.length * spec.speakers);
  sets.forEach((set, c) => set.forEach((s) => (mapping[c * spec.speakers + s] = 1)));
  return { mapping, classes: sets.length };
}

const exp = Math.exp;

/** frames × classes log-probabilities → frames × speakers activity (0/1 when hard). */
export function decodePowerset(logProbs: Float32Array, frames: number, options: PowersetDecodeOptions = {}): DecodedActivity {
  const spec: PowersetSpec = { speakers: options.speakers ?? 3, maxSetSize: options.maxSetSize ?? 2 };
  const { mapping, classes } = powersetMapping(spec);
  const speakers = spec.speakers;
  if (logProbs.length !== frames * classes) {
    throw new RangeError(`expected ${frames}×${classes} log-probabilities, got ${logProbs.length}`);
  }
  const activity = new Float32Array(frames * speakers);
  for (let t = 0; t < frames; t++) {
    const row = t * classes;
    const out = t * speakers;
    if (options.soft) {
      for (let c = 0; c < classes; c++) {
        const p = exp(logProbs[row + c]);
        for (let s = 0; s < speakers; s++) if (mapping[c * speakers + s]) activity[out + s] += p;
      }
    } else {
      // first maximum wins ties, like torch/numpy argmax
      let best = 0;
      for (let c = 1; c < classes; c++) if (logProbs[row + c] > logProbs[row + best]) best = c;
      for (let s = 0; s < speakers; s++) activity[out + s] = mapping[best * speakers + s];
    }
  }
  return { activity, frames, speakers };
}
