import { Inject, Injectable } from '@nestjs/common';
import { decodeAudio, SAMPLE_RATE } from '@app/audio';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { AlignmentStatus, ErrorCode, JobStage, ModelDownloadProgress, SegmentResult, ServiceError, TranscribeJobData, TranscriptionResult } from '@app/contracts';
import { SpeechChunk } from '@app/vad';
import { tokensToWords } from '@app/whisper';
import { WordAlignmentService } from '../alignment/word-alignment.service';
import { DiarizationOutcome, SpeakerDiarizationService } from '../diarization/speaker-diarization.service';
import { JobLeases } from '../models/model-cache.service';
import { WhisperModelsService } from '../models/whisper-models.service';
import { SpeechDetectionService } from '../vad/speech-detection.service';
import { planParallelism, transcribeChunks } from './chunked-transcription';
import { checkLanguagesForModelName, LanguagePlan, pickLanguage, planLanguage } from './language-choice';
import { inferenceThreads } from '../models/model-loading';

export interface PipelineHooks {
  /** stage changes and 0..100 progress within the job */
  onProgress(stage: JobStage, percent: number): void;
  /** the job's whisper model is being downloaded (stage downloading_model) */
  onModelDownload?(download: ModelDownloadProgress): void;
  signal: AbortSignal;
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

function downloadReporter(hooks: PipelineHooks) {
  if (!hooks.onModelDownload) return undefined;
  return (file: string, received: number, total: number | undefined) =>
    hooks.onModelDownload?.({
      file,
      received_bytes: received,
      ...(total ? { total_bytes: total, percent: Math.min(100, Math.floor((received / total) * 100)) } : {}),
    });
}

/** decode → language → whisper.cpp → result, for one job. */
@Injectable()
export class TranscriptionPipeline {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly models: WhisperModelsService,
    private readonly alignment: WordAlignmentService,
    private readonly diarization: SpeakerDiarizationService,
    private readonly speech: SpeechDetectionService,
  ) {}

  /** No speech at all: an empty transcript, and whisper never runs (it would hallucinate text). */
  private silentResult(jobId: string, data: TranscribeJobData, plan: LanguagePlan, duration: number, model: string, timings: Record<string, number>): TranscriptionResult {
    const language = plan.kind === 'fixed' ? plan.choice.language : (plan.allowed?.[0] ?? 'en');
    return {
      job_id: jobId,
      language,
      language_probability: 0,
      duration: round3(duration),
      model,
      segments: [],
      word_segments: [],
      // the requested stages ran, trivially: nothing to align, nobody spoke
      ...(data.options.alignWords ? { alignment: { status: 'ok' as const, words_aligned: 0, words_interpolated: 0 } } : {}),
      ...(data.options.diarize ? { diarization: { status: 'ok' as const, turns: [] }, speakers: [] } : {}),
      timings_ms: timings,
    };
  }

  /**
   * Every model the job uses is leased from its first use to the end of the job (released here,
   * whatever happens): eviction and /gc never free a model under a running job.
   */
  async run(jobId: string, data: TranscribeJobData, audio: Buffer, hooks: PipelineHooks): Promise<TranscriptionResult> {
    const leases = new JobLeases();
    try {
      return await this.runWith(leases, jobId, data, audio, hooks);
    } finally {
      leases.releaseAll();
    }
  }

  private async runWith(leases: JobLeases, jobId: string, data: TranscribeJobData, audio: Buffer, hooks: PipelineHooks): Promise<TranscriptionResult> {
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

    // a .en name needs no file to be English-only: a 400 before any download
    checkLanguagesForModelName(options.whisperModel ?? this.config.whisperModel, options.allowedLanguages);
    hooks.onProgress('load_model', 1);
    const model = leases.hold(await timed('load_model', () => this.models.lease(options.whisperModel, downloadReporter(hooks))));
    const plan = planLanguage(model.handle.isMultilingual, options.allowedLanguages, model.spec.name);

    hooks.onProgress('decode', 3);
    const decoded = await timed('decode', () =>
      decodeAudio(audio, {
        maxSeconds: this.config.maxAudioSeconds,
        timeoutMs: this.config.decodeTimeoutS * 1000,
        signal: hooks.signal,
      }),
    );
    const threads = inferenceThreads(this.config);

    // VAD cut & merge: only speech reaches whisper, in ≤ 30 s chunks that can be decoded in parallel
    let chunks: SpeechChunk[] | undefined;
    if (options.vad) {
      hooks.onProgress('vad', 4);
      chunks = await timed('vad', () => this.speech.chunks(decoded.pcm, (fraction) => hooks.onProgress('vad', 4 + Math.round(fraction * 4)), leases));
      if (chunks.length === 0) return this.silentResult(jobId, data, plan, decoded.durationSeconds, model.spec.name, timings);
    }

    let choice = plan.kind === 'fixed' ? plan.choice : undefined;
    if (!choice) {
      hooks.onProgress('detect_language', 8);
      // on the first speech, not on leading silence
      const firstSpeech = chunks ? decoded.pcm.subarray(Math.round(chunks[0].start * SAMPLE_RATE)) : decoded.pcm;
      const probabilities = await timed('detect_language', () => model.handle.detectLanguage(firstSpeech, { threads }));
      choice = pickLanguage(probabilities, plan.kind === 'detect' ? plan.allowed : undefined);
    }
    if (hooks.signal.aborted) throw new ServiceError(ErrorCode.JobCancelled, 'job cancelled');

    hooks.onProgress('transcribe', 10);
    const share = options.alignWords || options.diarize ? 0.68 : 0.88;
    const language = choice.language;
    const whisperSegments = await timed('transcribe', async () => {
      if (!chunks) {
        const whole = await model.handle.transcribe(decoded.pcm, {
          language,
          threads,
          signal: hooks.signal,
          onProgress: (percent) => hooks.onProgress('transcribe', 10 + Math.round(percent * share)),
        });
        return whole.segments;
      }
      const parallelism = planParallelism(options.batchSize, chunks.length, this.config.device, threads, this.config.gpuDecoders);
      return transcribeChunks(model.handle, decoded.pcm, chunks, {
        language,
        plan: parallelism,
        signal: hooks.signal,
        // progress counts seconds of speech decoded
        onProgress: (done, total) => hooks.onProgress('transcribe', 10 + Math.round((done / total) * 100 * share)),
      });
    });

    let segments: SegmentResult[] = whisperSegments.map((segment, id) => ({
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
        this.alignment.align(segments, decoded.pcm, language, (done, total) => hooks.onProgress('align', 78 + Math.round((done / total) * 10)), hooks.signal, leases),
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
          leases,
        ),
      );
      segments = diarization.segments;
    }

    hooks.onProgress('assemble', 99);
    return {
      job_id: jobId,
      language,
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
