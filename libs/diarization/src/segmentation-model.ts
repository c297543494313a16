import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { createOnnxSession, InFlightRuns } from '@app/model-cache';
import { fixedBatchSize, runInFixedBatches } from './onnx-batch';

/** pyannote segmentation-3.0 geometry: 10 s windows, 589 frames, 270-sample step, 991-sample receptive field. */
export interface SegmentationGeometry {
  sampleRate: number;
  windowSamples: number;
  frameStep: number;
  receptiveField: number;
  /** powerset classes per frame (7 for 3 speakers, at most 2 at once) */
  classes: number;
}

export const PYANNOTE_SEGMENTATION_GEOMETRY: SegmentationGeometry = {
  sampleRate: 16_000,
  windowSamples: 160_000,
  frameStep: 270,
  receptiveField: 991,
  classes: 7,
};

export interface SegmentationLoadOptions {
  useGpu: boolean;
  threads?: number;
  /** reports the execution provider the session got */
  log?: (message: string) => void;
  /** optional json beside the model describing its geometry (window, step, receptive_field) */
  configPath?: string;
}

function readGeometry(configPath: string | undefined): SegmentationGeometry {
  if (!configPath) return PYANNOTE_SEGMENTATION_GEOMETRY;
  try {
    const c = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    const num = (key: string, fallback: number) => (typeof c[key] === 'number' ? (c[key] as number) : fallback);
    return {
      sampleRate: num('sample_rate', 16_000),
      windowSamples: num('window', num('window_samples', 160_000)),
      frameStep: num('step', num('frame_step', 270)),
      receptiveField: num('receptive_field', 991),
      classes: Array.isArray(c.classes) ? c.classes.length : num('classes', 7),
    };
  } catch {
    return PYANNOTE_SEGMENTATION_GEOMETRY;
  }
}


/**
 * The segmentation model (sherpa-onnx export: x → y; transformers.js export: input_values → logits):
 * [N, 1, window] audio → [N, frames, 7] powerset log-probabilities.
 */
export class SegmentationModel {
  private readonly runs: InFlightRuns;
  private released?: Promise<void>;

  /** the batch the model was exported with when fixed (then windows run in groups of exactly that many); null: any batch */
  readonly fixedBatch: number | null;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly name: string,
    readonly geometry: SegmentationGeometry,
  ) {
    this.runs = new InFlightRuns(`segmentation model ${name}`);
    this.fixedBatch = fixedBatchSize(session.inputMetadata);
  }

  static async load(path: string, name: string, options: SegmentationLoadOptions): Promise<SegmentationModel> {
    return new SegmentationModel((await createOnnxSession(path, options)).session, name, readGeometry(options.configPath));
  }

  /** Runs `count` windows laid out back to back in `windows`; returns log-probs [count, frames, classes]. */
  async run(windows: Float32Array, count: number): Promise<{ logProbs: Float32Array; frames: number }> {
    const { windowSamples, classes } = this.geometry;
    if (windows.length !== count * windowSamples) throw new RangeError(`expected ${count} windows of ${windowSamples} samples`);
    if (this.fixedBatch !== null && count !== this.fixedBatch) return runInFixedBatches((w, n) => this.run(w, n), windows, count, windowSamples, this.fixedBatch);
    const input = new ort.Tensor('float32', windows, [count, 1, windowSamples]);
    const output = (await this.runs.run(() => this.session.run({ [this.session.inputNames[0]]: input })))[this.session.outputNames[0]];
    const [, frames, width] = output.dims.map(Number);
    if (width !== classes) throw new Error(`segmentation model ${this.name} emits ${width} classes per frame, expected ${classes}`);
    const logProbs = new Float32Array(output.data as Float32Array);
    logSoftmaxRows(logProbs, classes);
    return { logProbs, frames };
  }

  /** Frees the session once the calls in flight have ended; later calls are refused. Idempotent. */
  release(): Promise<void> {
    const released = this.released ?? this.runs.close().then(() => this.session.release());
    this.released = released;
    return released;
  }
}

/** Idempotent on log-probabilities; makes raw logits from other exports comparable. */
function logSoftmaxRows(values: Float32Array, width: number): void {
  for (let row = 0; row < values.length; row += width) {
    let max = -Infinity;
    for (let k = 0; k < width; k++) max = Math.max(max, values[row + k]);
    let sum = 0;
    for (let k = 0; k < width; k++) sum += Math.exp(values[row + k] - max);
    const log = max + Math.log(sum);
    for (let k = 0; k < width; k++) values[row + k] -= log;
  }
}
