import os from 'node:os';
import { Inject, Injectable } from '@nestjs/common';
import { decodeAudio } from '@app/audio';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { AlignmentStatus, ErrorCode, JobStage, SegmentResult, ServiceError, TranscribeJobData, TranscriptionResult } from '@app/contracts';
import { tokensToWords } from '@app/whisper';
import { WordAlignmentService } from '../alignment/word-alignment.service';
import { DiarizationOutcome, SpeakerDiarizationService } from '../diarization/speaker-diarization.service';
import { WhisperModelsService } from '../models/whisper-models.service';
import { pickLanguage, planLanguage } from './language-choice';

export interface PipelineHooks {
  /** stage changes and 0..100 progress within the job */
  onProgress(stage: JobStage, percent: number): void;
  signal: AbortSignal;
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

/** decode → language → whisper.cpp → result, for one job. */
@Injectable()
export class TranscriptionPipeline {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly models: WhisperModelsService,
    private readonly alignment: WordAlignmentService,
    private readonly diarization: SpeakerDiarizationService,
  ) {}

  async run(jobId: string, data: TranscribeJobData, audio: Buffer, hooks: PipelineHooks): Promise<TranscriptionResult> {
    const timings: Record<string, number> = {};
    const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      try {
        return await work();
      } finally {
        timings[name] = Math.round(performance.now() - started);
      }
    };
    const { options } = data;

    hooks.onProgress('load_model', 1);
    const model = await timed('load_model', () => this.models.acquire(options.whisperModel));
    const plan = planLanguage(model.handle.isMultilingual, options.allowedLanguages, model.spec.name);

    hooks.onProgress('decode', 3);
    const decoded = await timed('decode', () =>
      decodeAudio(audio, {
        maxSeconds: this.config.maxAudioSeconds,
        timeoutMs: this.config.decodeTimeoutS * 1000,
        signal: hooks.signal,
      }),
    );
    const threads = this.config.whisperThreads || Math.max(1, os.availableParallelism());

    let choice = plan.kind === 'fixed' ? plan.choice : undefined;
    if (!choice) {
      hooks.onProgress('detect_language', 5);
      const probabilities = await timed('detect_language', () => model.handle.detectLanguage(decoded.pcm, { threads }));
      choice = pickLanguage(probabilities, plan.kind === 'detect' ? plan.allowed : undefined);
    }
    if (hooks.signal.aborted) throw new ServiceError(ErrorCode.JobCancelled, 'job cancelled');

    hooks.onProgress('transcribe', 8);
    const decodedText = await timed('transcribe', () =>
      model.handle.transcribe(decoded.pcm, {
        language: choice.language,
        threads,
        signal: hooks.signal,
        onProgress: (percent) => hooks.onProgress('transcribe', 8 + Math.round(percent * (options.alignWords || options.diarize ? 0.7 : 0.9))),
      }),
    );

    let segments: SegmentResult[] = decodedText.segments.map((segment, id) => ({
      id,
      start: round3(segment.start),
      end: round3(segment.end),
      text: segment.text.trim(),
      avg_logprob: round3(segment.avgLogprob),
      no_speech_prob: round3(segment.noSpeechProb),
      words: tokensToWords(segment.tokens),
    }));
    let alignment: AlignmentStatus | undefined;
    if (options.alignWords) {
      hooks.onProgress('align', 78);
      const aligned = await timed('align', () =>
        this.alignment.align(segments, decoded.pcm, choice.language, (done, total) => hooks.onProgress('align', 78 + Math.round((done / total) * 10)), hooks.signal),
      );
      segments = aligned.segments;
      alignment = aligned.status;
    }
    let diarization: DiarizationOutcome | undefined;
    if (options.diarize) {
      hooks.onProgress('diarize', 88);
      diarization = await timed('diarize', () =>
        this.diarization.diarize(
          segments,
          decoded.pcm,
          { minSpeakers: options.minSpeakers, maxSpeakers: options.maxSpeakers },
          (fraction) => hooks.onProgress('diarize', 88 + Math.round(fraction * 10)),
          hooks.signal,
        ),
      );
      segments = diarization.segments;
    }

    hooks.onProgress('assemble', 99);
    return {
      job_id: jobId,
      language: choice.language,
      language_probability: round3(choice.probability),
      duration: round3(decoded.durationSeconds),
      model: model.spec.name,
      segments,
      word_segments: segments.flatMap((segment) => segment.words),
      ...(alignment ? { alignment } : {}),
      ...(diarization ? { diarization: diarization.status, ...(diarization.speakers ? { speakers: diarization.speakers } : {}) } : {}),
      timings_ms: timings,
    };
  }
}
