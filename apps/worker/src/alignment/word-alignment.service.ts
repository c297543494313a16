import { Injectable, Logger } from '@nestjs/common';
import { SAMPLE_RATE } from '@app/audio';
import { alignSegment, AlignmentModelUnavailable, CHARACTER_ALIGNED_LANGUAGES, WAV2VEC2_FRAME_GEOMETRY } from '@app/alignment';
import { AlignmentStatus, round3, SegmentResult, throwIfCancelled, WordResult } from '@app/contracts';
import { JobLeases } from '../models/model-cache.service';
import { AlignmentModelsService } from './alignment-models.service';

export interface AlignmentOutcome {
  segments: SegmentResult[];
  status: AlignmentStatus;
}

/**
 * WhisperX's second pass: each whisper segment's audio through the wav2vec2 CTC model, then forced
 * alignment of the segment's text. A missing model degrades to whisper's own word times.
 */
@Injectable()
export class WordAlignmentService {
  private readonly logger = new Logger(WordAlignmentService.name);

  constructor(private readonly models: AlignmentModelsService) {}

  async align(
    segments: SegmentResult[],
    pcm: Float32Array,
    language: string,
    onSegmentDone: (done: number, total: number) => void,
    signal: AbortSignal,
    /** the job's leases: the model stays held until the job ends; without, it is released when this call ends */
    jobLeases?: JobLeases,
  ): Promise<AlignmentOutcome> {
    return JobLeases.within(jobLeases, (leases) => this.alignWith(leases, segments, pcm, language, onSegmentDone, signal));
  }

  private async alignWith(
    leases: JobLeases,
    segments: SegmentResult[],
    pcm: Float32Array,
    language: string,
    onSegmentDone: (done: number, total: number) => void,
    signal: AbortSignal,
  ): Promise<AlignmentOutcome> {
    let loaded;
    try {
      loaded = leases.hold(await this.models.lease(language));
    } catch (error) {
      if (!(error instanceof AlignmentModelUnavailable)) this.logger.warn(`alignment model for ${language} failed to load: ${(error as Error).message}`);
      return { segments, status: { status: 'unavailable', reason: (error as Error).message } };
    }
    const { model } = loaded;
    const perCharacter = CHARACTER_ALIGNED_LANGUAGES.has(language);
    let aligned = 0;
    let interpolated = 0;
    const out: SegmentResult[] = [];
    for (const [index, segment] of segments.entries()) {
      throwIfCancelled(signal);
      const from = Math.max(0, Math.floor(segment.start * SAMPLE_RATE));
      const to = Math.min(pcm.length, Math.max(from, Math.ceil(segment.end * SAMPLE_RATE)));
      const emissions = await model.emissions(pcm.subarray(from, to));
      const alignment = alignSegment({
        segment: { text: segment.text, start: segment.start, end: segment.end },
        logits: emissions.logits,
        frames: emissions.frames,
        vocab: model.vocab,
        perCharacter,
        frameGeometry: WAV2VEC2_FRAME_GEOMETRY,
      });
      const words: WordResult[] = alignment.words.map((word) => ({
        word: word.word,
        start: round3(word.start),
        end: round3(word.end),
        score: round3(word.score),
        ...(word.interpolated ? { interpolated: true } : {}),
      }));
      for (const word of words) word.interpolated ? interpolated++ : aligned++;
      out.push({ ...segment, ...tightened(segment, words), words });
      onSegmentDone(index + 1, segments.length);
    }
    return { segments: out, status: { status: 'ok', model: model.name, words_aligned: aligned, words_interpolated: interpolated } };
  }
}

/** Segment bounds from its first and last aligned word (interpolated words don't move them). */
function tightened(segment: SegmentResult, words: WordResult[]): Pick<SegmentResult, 'start' | 'end'> {
  const timed = words.filter((word) => !word.interpolated);
  if (timed.length === 0) return { start: segment.start, end: segment.end };
  return { start: timed[0].start, end: Math.max(...timed.map((word) => word.end)) };
}
