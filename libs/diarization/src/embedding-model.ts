import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { createOnnxSession, InFlightRuns } from '@app/model-cache';
import { computeFbank, Fbank, FbankWindow } from './fbank';

export interface EmbeddingFeatureConfig {
  window: FbankWindow;
  numMelBins: number;
  /** per-utterance mean normalisation of the fbank (WeSpeaker and 3D-Speaker both do it) */
  normalizeMean: boolean;
}

export interface EmbeddingLoadOptions {
  useGpu: boolean;
  threads?: number;
  /** reports the execution provider the session got */
  log?: (message: string) => void;
  /** json beside the model ({"window": "povey"|"hamming", "num_mel_bins": 80, "normalize_mean": true, "name": …}) */
  configPath?: string;
}

/**
 * Feature settings by model family when no json says otherwise: WeSpeaker exports take `feats` and
 * were trained on Hamming-window fbank; 3D-Speaker (CAM++, ERes2Net) take `x` with Kaldi's povey default.
 */
export function defaultFeatureConfig(inputName: string): EmbeddingFeatureConfig {
  return { window: inputName === 'feats' ? 'hamming' : 'povey', numMelBins: 80, normalizeMean: true };
}

function readFeatureConfig(configPath: string | undefined, inputName: string): EmbeddingFeatureConfig {
  const fallback = defaultFeatureConfig(inputName);
  if (!configPath) return fallback;
  try {
    const c = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    return {
      window: typeof c.window === 'string' ? (c.window as FbankWindow) : fallback.window,
      numMelBins: typeof c.num_mel_bins === 'number' ? c.num_mel_bins : fallback.numMelBins,
      normalizeMean: typeof c.normalize_mean === 'boolean' ? c.normalize_mean : fallback.normalizeMean,
    };
  } catch {
    return fallback;
  }
}

/** A speaker-embedding model: 80-bin Kaldi fbank [1, T, 80] → embedding [1, D] (WeSpeaker 256, CAM++ 192/512). */
export class SpeakerEmbeddingModel {
  private readonly runs: InFlightRuns;
  private released?: Promise<void>;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly name: string,
    readonly features: EmbeddingFeatureConfig,
  ) {
    this.runs = new InFlightRuns(`speaker-embedding model ${name}`);
  }

  static async load(path: string, name: string, options: EmbeddingLoadOptions): Promise<SpeakerEmbeddingModel> {
    const { session } = await createOnnxSession(path, options);
    return new SpeakerEmbeddingModel(session, name, readFeatureConfig(options.configPath, session.inputNames[0]));
  }

  /** Embedding of 16 kHz audio (at least one 25 ms frame), copied out of onnxruntime's buffer. */
  async embed(samples: Float32Array): Promise<Float32Array> {
    const fbank = this.fbank(samples);
    return this.embedFeatures(fbank.features, fbank.frames);
  }

  /** The model's input features of 16 kHz audio: Kaldi fbank, mean-normalised over all of it when the model expects that (or as `subtractMean` says). */
  fbank(samples: Float32Array, subtractMean = this.features.normalizeMean): Fbank {
    return computeFbank(samples, { window: this.features.window, numMelBins: this.features.numMelBins, subtractMean });
  }

  /** Embedding of `frames` fbank rows (frames × numMelBins), e.g. a speaker's rows picked out of a whole chunk's fbank. */
  async embedFeatures(features: Float32Array, frames: number): Promise<Float32Array> {
    if (frames === 0) throw new RangeError('audio too short for a speaker embedding');
    const feats = new ort.Tensor('float32', features, [1, frames, features.length / frames]);
    const output = (await this.runs.run(() => this.session.run({ [this.session.inputNames[0]]: feats })))[this.session.outputNames[0]];
    return new Float32Array(output.data as Float32Array);
  }

  /** Frees the session once the calls in flight have ended; later calls are refused. Idempotent. */
  release(): Promise<void> {
    const released = this.released ?? this.runs.close().then(() => this.session.release());
    this.released = released;
    return released;
  }
}
