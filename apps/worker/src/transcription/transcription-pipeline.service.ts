import { Inject, Injectable } from '@nestjs/common';
import { AudioInput, decodeAudio, DecodedAudio, SAMPLE_RATE } from '@app/audio';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { AlignmentStatus, JobStage, ModelDownloadProgress, round3, SegmentResult, TranscribeJobData, TranscriptionResult } from '@app/contracts';
import { SpeechChunk } from '@app/vad';
import { readModelIsMultilingual, resolveWhisperModel, tokensToWords, WhisperModelSpec, WhisperSegment, WhisperUsedParams } from '@app/whisper';
import { StageTimings } from '../jobs/stage-timings';
import { WordAlignmentService } from '../alignment/word-alignment.service';
import { DiarizationOutcome, SpeakerDiarizationService } from '../diarization/speaker-diarization.service';
import { JobLeases } from '../models/model-cache.service';
import { WhisperModelsService } from '../models/whisper-models.service';
import { SpeechDetectionService } from '../vad/speech-detection.service';
import { planParallelism, transcribeChunks } from './chunked-transcription';
import { assertCanTranslate, decodingReport, requestedLanguages, vadSettings, whisperDecoding } from './decoding-settings';
import { checkLanguagesForModelName, LanguageChoice, LanguagePlan, pickLanguage, planLanguage } from './language-choice';
import { inferenceThreads } from '../models/model-loading';
import { StageProgress } from './pipeline-stages';

export interface PipelineHooks {
  /** stage changes and 0..100 progress within the job (the percents come from PIPELINE_STAGES) */
  onProgress(stage: JobStage, percent: number): void;
  /** the job's whisper model is being downloaded (stage downloading_model) */
  onModelDownload?(download: ModelDownloadProgress): void;
  /** transcript segments as they are decoded, in order, before alignment and diarization (streaming readers) */
  onSegments?(segments: SegmentResult[]): void;
  signal: AbortSignal;
}

function downloadReporter(hooks: PipelineHooks) {
  if (!hooks.onModelDownload) return undefined;
  return (file: string, received: number, total: number | undefined) =>
    hooks.onModelDownload?.({
      file,
      received_bytes: received,
      ...(total ? { total_bytes: total, percent: Math.min(100, Math.floor((received / total) * 100)) } : {}),
    });
}

/** whisper.cpp's segment → the result's, at result precision (alignment cuts the audio at these bounds). */
function segmentResult(segment: WhisperSegment, id: number): SegmentResult {
  return {
    id,
    start: round3(segment.start),
    end: round3(segment.end),
    text: segment.text.trim(),
    avg_logprob: round3(segment.avgLogprob),
    no_speech_prob: round3(segment.noSpeechProb),
    words: tokensToWords(segment.tokens).map((word) => ({ word: word.word, start: round3(word.start), end: round3(word.end), score: round3(word.score) })),
  };
}

/**
 * One job, one way through: decode (and validate) → VAD → silent? done → acquire the whisper model →
 * detect the language → transcribe → align → diarize → assemble. Bad audio and silence are known
 * before a model is downloaded or loaded; the stages and their progress are PIPELINE_STAGES.
 */
@Injectable()
export class TranscriptionPipeline {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly models: WhisperModelsService,
    private readonly alignment: WordAlignmentService,
    private readonly diarization: SpeakerDiarizationService,
    private readonly speech: SpeechDetectionService,
  ) {}

  /**
   * Every model the job uses is leased from its first use to the end of the job (released here,
   * whatever happens): eviction and /gc never free a model under a running job.
   */
  async run(jobId: string, data: TranscribeJobData, audio: AudioInput, hooks: PipelineHooks): Promise<TranscriptionResult> {
    const leases = new JobLeases();
    try {
      return await this.runWith(leases, jobId, data, audio, hooks);
    } finally {
      leases.releaseAll();
    }
  }

  private async runWith(leases: JobLeases, jobId: string, data: TranscribeJobData, audio: AudioInput, hooks: PipelineHooks): Promise<TranscriptionResult> {
    const stageTimings = new StageTimings();
    const timings = stageTimings.ms;
    const timed = <T>(stage: string, work: () => Promise<T>): Promise<T> => stageTimings.time(stage, work);
    const { options } = data;
    // the stages this job skips give their share of the progress to the stage before them
    const skipped = new Set<JobStage>();
    if (!options.vad) skipped.add('vad');
    if (!options.alignWords) skipped.add('align');
    if (!options.diarize) skipped.add('diarize');
    const progress = new StageProgress(hooks.onProgress, hooks.signal, skipped);

    // the request's model by name: unknown (400), or a .en name with other languages (400, no file
    // needed to know), before any work
    const modelName = options.whisperModel ?? this.config.whisperModel;
    checkLanguagesForModelName(modelName, requestedLanguages(options));
    const spec = resolveWhisperModel(modelName, this.config.computeType, this.config.modelDir);

    // decode and validate (empty, corrupt, too long): bad audio fails before any model is touched
    progress.enter('decode');
    const decoded = await timed('decode', () =>
      decodeAudio(audio, {
        maxSeconds: this.config.maxAudioSeconds,
        timeoutMs: this.config.decodeTimeoutS * 1000,
        signal: hooks.signal,
      }),
    );

    // VAD cut & merge: only speech reaches whisper, in ≤ 30 s chunks that can be decoded in parallel
    let chunks: SpeechChunk[] | undefined;
    const chunking = vadSettings(options);
    if (options.vad) {
      progress.enter('vad');
      chunks = await timed('vad', () => this.speech.chunks(decoded.pcm, (fraction) => progress.within('vad', fraction), hooks.signal, leases, chunking));
      if (chunks.length === 0) {
        progress.enter('load_model');
        const model = await timed('load_model', () => this.modelFacts(leases, spec, options.whisperModel, hooks));
        assertCanTranslate(options, model.isMultilingual);
        const silentPlan = planLanguage(model.isMultilingual, requestedLanguages(options), model.name);
        return this.silentResult(jobId, data, silentPlan, decoded, model.name, timings, { settings: chunking, chunks });
      }
    }

    progress.enter('load_model');
    const model = leases.hold(await timed('load_model', () => this.models.lease(options.whisperModel, downloadReporter(hooks))));
    assertCanTranslate(options, model.handle.isMultilingual);
    const plan = planLanguage(model.handle.isMultilingual, requestedLanguages(options), model.spec.name);
    const threads = inferenceThreads(this.config);

    let choice: LanguageChoice;
    if (plan.kind === 'fixed') {
      choice = plan.choice;
    } else {
      progress.enter('detect_language');
      // on the first speech, not on leading silence
      const firstSpeech = chunks ? decoded.pcm.subarray(Math.round(chunks[0].start * SAMPLE_RATE)) : decoded.pcm;
      const probabilities = await timed('detect_language', () => model.handle.detectLanguage(firstSpeech, { threads }));
      choice = pickLanguage(probabilities, plan.allowed);
    }

    progress.enter('transcribe');
    const language = choice.language;
    const decoding = whisperDecoding(options);
    // every decode of the job gets the same parameters: the first one's stand for all
    let usedParams: WhisperUsedParams | undefined;
    // ids count on across chunks: the same ids as the result's segments
    let streamed = 0;
    const stream = (decoded: WhisperSegment[]) => hooks.onSegments?.(decoded.map((segment) => segmentResult(segment, streamed++)));
    const whisperSegments = await timed('transcribe', async () => {
      if (!chunks) {
        const whole = await model.handle.transcribe(decoded.pcm, {
          ...decoding,
          language,
          threads,
          signal: hooks.signal,
          onProgress: (percent) => progress.within('transcribe', percent / 100),
        });
        usedParams = whole.params;
        // without VAD chunks there is one decode: its segments all come at its end
        stream(whole.segments);
        return whole.segments;
      }
      const parallelism = planParallelism(options.batchSize, chunks.length, this.config.device, threads, this.config.gpuDecoders);
      return transcribeChunks(model.handle, decoded.pcm, chunks, {
        language,
        decoding,
        onParams: (params) => (usedParams ??= params),
        plan: parallelism,
        signal: hooks.signal,
        // progress counts seconds of speech decoded
        onProgress: (done, total) => progress.within('transcribe', done / total),
        onChunkDecoded: stream,
      });
    });
    let segments = whisperSegments.map(segmentResult);

    let alignment: AlignmentStatus | undefined;
    if (options.alignWords) {
      progress.enter('align');
      const aligned = await timed('align', () =>
        this.alignment.align(segments, decoded.pcm, language, (done, total) => progress.within('align', done / total), hooks.signal, leases),
      );
      segments = aligned.segments;
      alignment = aligned.status;
    }

    let diarization: DiarizationOutcome | undefined;
    if (options.diarize) {
      progress.enter('diarize');
      diarization = await timed('diarize', () =>
        this.diarization.diarize(
          segments,
          decoded.pcm,
          { minSpeakers: options.minSpeakers, maxSpeakers: options.maxSpeakers },
          (fraction) => progress.within('diarize', fraction),
          hooks.signal,
          leases,
        ),
      );
      segments = diarization.segments;
    }

    progress.enter('assemble');
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
      decoding: decodingReport(options, language, chunks ? { settings: chunking, chunks } : undefined, usedParams),
      timings_ms: timings,
    };
  }

  /**
   * What a silent file needs to know of its model, without loading it into whisper.cpp: the name
   * (it must resolve) and whether it is English-only (the file's header), for the same 400 a spoken
   * file would get. A model not in MODEL_DIR is acquired as for speech: a download, or 503
   * model_unavailable.
   */
  private async modelFacts(
    leases: JobLeases,
    spec: WhisperModelSpec,
    requested: string | undefined,
    hooks: PipelineHooks,
  ): Promise<{ name: string; isMultilingual: boolean }> {
    const isMultilingual = await readModelIsMultilingual(spec.path);
    if (isMultilingual !== undefined) return { name: spec.name, isMultilingual };
    const model = leases.hold(await this.models.lease(requested, downloadReporter(hooks)));
    return { name: model.spec.name, isMultilingual: model.handle.isMultilingual };
  }

  /** No speech at all: an empty transcript, and whisper never runs (it would hallucinate text). */
  private silentResult(
    jobId: string,
    data: TranscribeJobData,
    plan: LanguagePlan,
    decoded: DecodedAudio,
    model: string,
    timings: Record<string, number>,
    vad: Parameters<typeof decodingReport>[2],
  ): TranscriptionResult {
    const language = plan.kind === 'fixed' ? plan.choice.language : (plan.allowed?.[0] ?? 'en');
    return {
      job_id: jobId,
      language,
      language_probability: 0,
      duration: round3(decoded.durationSeconds),
      model,
      segments: [],
      word_segments: [],
      // the requested stages ran, trivially: nothing to align, nobody spoke
      ...(data.options.alignWords ? { alignment: { status: 'ok' as const, words_aligned: 0, words_interpolated: 0 } } : {}),
      ...(data.options.diarize ? { diarization: { status: 'ok' as const, turns: [] }, speakers: [] } : {}),
      // whisper never ran: no whisper_params
      decoding: decodingReport(data.options, language, vad, undefined),
      timings_ms: timings,
    };
  }
}
