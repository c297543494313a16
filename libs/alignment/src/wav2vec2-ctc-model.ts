import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createOnnxSession, InFlightRuns } from '@app/model-cache';
import { ALIGNMENT_MODEL_FILES } from './alignment-model-registry';
import { CtcVocabulary } from './alignment-types';
import { buildCtcVocabulary } from './ctc-vocabulary';

/** wav2vec2's conv feature extractor: 400-sample receptive field, 320-sample (20 ms) stride. */
export const WAV2VEC2_RECEPTIVE_FIELD = 400;
export const WAV2VEC2_STRIDE = 320;
/** Frame timing of wav2vec2's emissions, for the aligner. */
export const WAV2VEC2_FRAME_GEOMETRY = {
  strideSeconds: WAV2VEC2_STRIDE / 16_000,
  offsetSeconds: (WAV2VEC2_RECEPTIVE_FIELD - WAV2VEC2_STRIDE) / 2 / 16_000,
} as const;
/** Audio per inference call: bounds the memory of very long segments (whisper's are ≤ 30 s). */
const MAX_CHUNK_SAMPLES = 30 * 16_000;

export interface Emissions {
  /** frames × vocab.size raw logits, row-major */
  logits: Float32Array;
  frames: number;
}

export interface Wav2Vec2LoadOptions {
  useGpu: boolean;
  threads?: number;
  /** reports the execution provider the session got */
  log?: (message: string) => void;
}

/** A wav2vec2 CTC model exported to ONNX (input_values [1, samples] → logits [1, frames, vocab]). */
export class Wav2Vec2CtcModel {
  private readonly runs: InFlightRuns;
  private released?: Promise<void>;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly name: string,
    readonly vocab: CtcVocabulary,
    readonly doNormalize: boolean,
    private readonly inputName: string,
    private readonly outputName: string,
  ) {
    this.runs = new InFlightRuns(`alignment model ${name}`);
  }

  static async load(dir: string, name: string, options: Wav2Vec2LoadOptions): Promise<Wav2Vec2CtcModel> {
    const vocab = buildCtcVocabulary(JSON.parse(readFileSync(join(dir, ALIGNMENT_MODEL_FILES.vocab), 'utf8')) as Record<string, number>);
    const { session } = await createOnnxSession(join(dir, ALIGNMENT_MODEL_FILES.model), options);
    const inputName = session.inputNames.includes('input_values') ? 'input_values' : session.inputNames[0];
    const outputName = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0];
    return new Wav2Vec2CtcModel(session, name, vocab, readDoNormalize(dir), inputName, outputName);
  }

  /**
   * Emissions for one segment's audio (16 kHz mono). Segments shorter than the receptive field are
   * zero-padded; long ones run in ≤ 30 s pieces so memory stays bounded.
   */
  emissions(pcm: Float32Array): Promise<Emissions> {
    return this.runs.run(() => this.emit(pcm));
  }

  private async emit(pcm: Float32Array): Promise<Emissions> {
    const pieces: Float32Array[] = [];
    let frames = 0;
    for (let at = 0; at < Math.max(pcm.length, 1); at += MAX_CHUNK_SAMPLES) {
      const piece = await this.runPiece(pcm.subarray(at, Math.min(pcm.length, at + MAX_CHUNK_SAMPLES)));
      pieces.push(piece.logits);
      frames += piece.frames;
    }
    if (pieces.length === 1) return { logits: pieces[0], frames };
    const logits = new Float32Array(frames * this.vocab.size);
    let offset = 0;
    for (const piece of pieces) {
      logits.set(piece, offset);
      offset += piece.length;
    }
    return { logits, frames };
  }

  /** Frees the session once the calls in flight have ended; later calls are refused. Idempotent. */
  release(): Promise<void> {
    const released = this.released ?? this.runs.close().then(() => this.session.release());
    this.released = released;
    return released;
  }

  private async runPiece(samples: Float32Array): Promise<Emissions> {
    const input = new Float32Array(Math.max(samples.length, WAV2VEC2_RECEPTIVE_FIELD));
    input.set(samples);
    if (this.doNormalize) normalizeInPlace(input);
    const feeds = { [this.inputName]: new ort.Tensor('float32', input, [1, input.length]) };
    const output = await this.session.run(feeds);
    const logits = output[this.outputName];
    const [, frames, vocabSize] = logits.dims;
    if (vocabSize !== this.vocab.size) {
      throw new Error(`model ${this.name} emits ${vocabSize} classes but its vocab.json has ${this.vocab.size}`);
    }
    const data = logits.data as Float32Array;
    // copy out of onnxruntime's buffer, which is reused by the next run
    return { logits: new Float32Array(data), frames: Number(frames) };
  }
}

/** Zero mean, unit variance, as Wav2Vec2FeatureExtractor does when do_normalize is set. */
export function normalizeInPlace(samples: Float32Array): void {
  let mean = 0;
  for (let i = 0; i < samples.length; i++) mean += samples[i];
  mean /= samples.length || 1;
  let variance = 0;
  for (let i = 0; i < samples.length; i++) variance += (samples[i] - mean) ** 2;
  variance /= samples.length || 1;
  const scale = 1 / Math.sqrt(variance + 1e-7);
  for (let i = 0; i < samples.length; i++) samples[i] = (samples[i] - mean) * scale;
}

function readDoNormalize(dir: string): boolean {
  try {
    const config = JSON.parse(readFileSync(join(dir, ALIGNMENT_MODEL_FILES.preprocessor), 'utf8')) as { do_normalize?: unknown };
    return config.do_normalize !== false;
  } catch {
    // Wav2Vec2FeatureExtractor's default
    return true;
  }
}
