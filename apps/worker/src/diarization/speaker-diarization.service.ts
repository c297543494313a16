import { Injectable, Logger } from '@nestjs/common';
import { assignSpeakers, diarize, DiarizationModelUnavailable, speakingTime, SpeakerTurn } from '@app/diarization';
import { DiarizationStatus, round3, SegmentResult } from '@app/contracts';
import { JobLeases } from '../models/model-cache.service';
import { DiarizationModelsService } from './diarization-models.service';

export interface DiarizationOutcome {
  segments: SegmentResult[];
  speakers?: { id: string; speech_seconds: number }[];
  status: DiarizationStatus;
}

/** Who spoke when, then every word and segment labelled with the speaker it overlaps most. */
@Injectable()
export class SpeakerDiarizationService {
  private readonly logger = new Logger(SpeakerDiarizationService.name);

  constructor(private readonly models: DiarizationModelsService) {}

  async diarize(
    segments: SegmentResult[],
    pcm: Float32Array,
    options: { minSpeakers?: number; maxSpeakers?: number },
    onProgress: (fraction: number) => void,
    signal: AbortSignal,
    /** the job's leases: the models stay held until the job ends; without, they are released when this call ends */
    jobLeases?: JobLeases,
  ): Promise<DiarizationOutcome> {
    return JobLeases.within(jobLeases, (leases) => this.diarizeWith(leases, segments, pcm, options, onProgress, signal));
  }

  private async diarizeWith(
    leases: JobLeases,
    segments: SegmentResult[],
    pcm: Float32Array,
    options: { minSpeakers?: number; maxSpeakers?: number },
    onProgress: (fraction: number) => void,
    signal: AbortSignal,
  ): Promise<DiarizationOutcome> {
    let models;
    try {
      models = leases.hold(await this.models.lease());
    } catch (error) {
      if (!(error instanceof DiarizationModelUnavailable)) this.logger.warn(`diarization models failed to load: ${(error as Error).message}`);
      return { segments, status: { status: 'unavailable', reason: (error as Error).message } };
    }
    const result = await diarize(pcm, models, { minSpeakers: options.minSpeakers, maxSpeakers: options.maxSpeakers, onProgress, signal });
    const turns: SpeakerTurn[] = result.turns.map((turn) => ({ speaker: turn.speaker, start: round3(turn.start), end: round3(turn.end) }));
    return {
      segments: labelled(segments, turns),
      speakers: speakingTime(turns).map((s) => ({ id: s.id, speech_seconds: round3(s.speech_seconds) })),
      status: { status: 'ok', model: models.name, turns },
    };
  }
}

/** Segments and their words get the speaker with the largest overlap (nearest turn when none, flagged). */
function labelled(segments: SegmentResult[], turns: SpeakerTurn[]): SegmentResult[] {
  if (turns.length === 0) return segments;
  const segmentSpeakers = assignSpeakers(segments, turns);
  return segments.map((segment, i) => {
    const wordSpeakers = assignSpeakers(segment.words, turns);
    return {
      ...segment,
      speaker: segmentSpeakers[i].speaker,
      words: segment.words.map((word, k) => ({
        ...word,
        speaker: wordSpeakers[k].speaker,
        ...(wordSpeakers[k].nearest ? { speaker_nearest: true } : {}),
      })),
    };
  });
}
