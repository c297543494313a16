/**
 * The pipeline's order with fake stages: bad audio and silence are known before the whisper model is
 * acquired; speech goes decode → VAD → model → language → transcribe → align → diarize → assemble.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceConfig } from '@app/config';
import { checkTranscribeOptions, ErrorCode, JobCancelledError, JobStage, SegmentResult, ServiceError, TranscribeJobData } from '@app/contracts';
import { DecodeOptions, WhisperModelHandle, WhisperSegment } from '@app/whisper';
import { encodeWav } from '../../../../test/support/wav';
import { WordAlignmentService } from '../alignment/word-alignment.service';
import { SpeakerDiarizationService } from '../diarization/speaker-diarization.service';
import { WhisperModelsService } from '../models/whisper-models.service';
import { SpeechDetectionService } from '../vad/speech-detection.service';
import { PIPELINE_STAGES } from './pipeline-stages';
import { TranscriptionPipeline } from './transcription-pipeline.service';

/** A ggml header: magic, then n_vocab (51865 and more: multilingual). */
function ggmlHeader(vocab: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeUInt32LE(0x67676d6c, 0);
  bytes.writeInt32LE(vocab, 4);
  return bytes;
}

const segment = (start: number, end: number, text: string): WhisperSegment => ({
  start,
  end,
  text,
  avgLogprob: -0.12345,
  noSpeechProb: 0.01234,
  tokens: [{ id: 1, text, start, end, p: 0.98765, plog: Math.log(0.98765) }],
});

describe('TranscriptionPipeline order', () => {
  let modelDir: string;
  let calls: string[];
  let progress: [JobStage, number][];
  let chunks: { start: number; end: number }[];
  let decodeOptions: DecodeOptions[] = [];

  const handle: WhisperModelHandle = {
    path: 'fake',
    isMultilingual: true,
    sizeBytes: 1,
    detectLanguage: async () => {
      calls.push('detect_language');
      return { en: 0.9, de: 0.1 };
    },
    transcribe: async (_pcm, options) => {
      calls.push('transcribe');
      decodeOptions.push(options ?? {});
      return { segments: [segment(0.123456, 1.98765, ' hello')], durationSeconds: 2, params: { translate: options?.translate ?? false, n_prompt_tokens: 3 } } as never;
    },
    free: async () => undefined,
  };
  const models = {
    lease: jest.fn(async (name: string | undefined) => {
      calls.push('acquire_model');
      return { model: { spec: { name: name ?? 'fake-multi' }, handle, label: 'fake', bytes: 1, dispose: async () => undefined }, release: () => undefined };
    }),
  };
  const speech = {
    chunks: jest.fn(async () => {
      calls.push('vad');
      return chunks;
    }),
  };
  const alignment = {
    align: jest.fn(async (segments: SegmentResult[]) => {
      calls.push('align');
      return { segments, status: { status: 'ok' as const, words_aligned: 1, words_interpolated: 0 } };
    }),
  };
  const diarization = {
    diarize: jest.fn(async (segments: SegmentResult[]) => {
      calls.push('diarize');
      return { segments, speakers: [], status: { status: 'ok' as const, turns: [] } };
    }),
  };

  const pipeline = () =>
    new TranscriptionPipeline(
      { whisperModel: 'fake-multi', computeType: 'int8', modelDir, maxAudioSeconds: 60, decodeTimeoutS: 10, device: 'cpu', gpuDecoders: 1, whisperThreads: 1 } as ServiceConfig,
      models as unknown as WhisperModelsService,
      alignment as unknown as WordAlignmentService,
      diarization as unknown as SpeakerDiarizationService,
      speech as unknown as SpeechDetectionService,
    );
  const job = (options: Partial<TranscribeJobData['options']> = {}): TranscribeJobData =>
    // the worker's own check fills in every default, as for a job read back from Redis
    ({ acceptedAt: Date.now(), options: checkTranscribeOptions({ batchSize: 1, vad: true, alignWords: false, diarize: false, ...options }) }) as TranscribeJobData;
  const hooks = (signal = new AbortController().signal) => ({ signal, onProgress: (stage: JobStage, percent: number) => progress.push([stage, percent]) });
  const twoSeconds = encodeWav(new Float32Array(32_000));
  const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as ServiceError);

  beforeAll(() => {
    modelDir = mkdtempSync(join(tmpdir(), 'pipeline-order-'));
    writeFileSync(join(modelDir, 'ggml-fake-multi.bin'), ggmlHeader(51865));
    writeFileSync(join(modelDir, 'ggml-fake-english.bin'), ggmlHeader(51864));
  });

  afterAll(() => rmSync(modelDir, { recursive: true, force: true }));

  beforeEach(() => {
    calls = [];
    progress = [];
    chunks = [];
    decodeOptions = [];
    jest.clearAllMocks();
  });

  it('silent audio never acquires the whisper model: an empty transcript, as before', async () => {
    const result = await pipeline().run('job-1', job({ allowedLanguages: ['de', 'fr'], alignWords: true, diarize: true }), twoSeconds, hooks());
    expect(models.lease).not.toHaveBeenCalled();
    expect(calls).toEqual(['vad']);
    expect(result).toMatchObject({
      language: 'de',
      language_probability: 0,
      duration: 2,
      model: 'fake-multi',
      segments: [],
      word_segments: [],
      alignment: { status: 'ok', words_aligned: 0, words_interpolated: 0 },
      diarization: { status: 'ok', turns: [] },
      speakers: [],
    });
    expect(Object.keys(result.timings_ms).sort()).toEqual(['decode', 'load_model', 'vad']);
    expect(progress.map(([stage]) => stage)).toEqual(['decode', 'vad', 'load_model']);
  });

  it('silent audio on an English-only model file still refuses other languages (its header, not a load)', async () => {
    const error = await failure(pipeline().run('job-1', job({ whisperModel: 'fake-english', allowedLanguages: ['en', 'de'] }), twoSeconds, hooks()));
    expect(error).toMatchObject({ code: ErrorCode.UnsupportedLanguage, field: 'allowed_languages' });
    expect(models.lease).not.toHaveBeenCalled();
  });

  it('silent audio on a model not in MODEL_DIR acquires it as speech would (a download, or 503)', async () => {
    models.lease.mockRejectedValueOnce(new ServiceError(ErrorCode.ModelUnavailable, 'place ggml-tiny-q8_0.bin in MODEL_DIR', 'whisper_model'));
    const error = await failure(pipeline().run('job-1', job({ whisperModel: 'tiny' }), twoSeconds, hooks()));
    expect(error).toMatchObject({ code: ErrorCode.ModelUnavailable });
    expect(speech.chunks).toHaveBeenCalled();
  });

  it.each([
    ['an empty file', Buffer.alloc(0), ErrorCode.EmptyFile],
    ['audio longer than MAX_AUDIO_SECONDS', encodeWav(new Float32Array(16_000 * 61)), ErrorCode.AudioTooLong],
    ['bytes that are not audio', Buffer.from('not audio at all, just text'.repeat(40)), ErrorCode.UnsupportedMedia],
  ])('%s fails before VAD and before any model is acquired', async (_name, bytes, code) => {
    const error = await failure(pipeline().run('job-1', job({ whisperModel: 'tiny' }), bytes, hooks()));
    expect(error).toMatchObject({ code });
    expect(calls).toEqual([]);
  });

  it('a .en name with other languages is a 400 before the audio is even decoded', async () => {
    const error = await failure(pipeline().run('job-1', job({ whisperModel: 'tiny.en', allowedLanguages: ['en', 'fr'] }), Buffer.alloc(0), hooks()));
    expect(error).toMatchObject({ code: ErrorCode.UnsupportedLanguage });
    expect(calls).toEqual([]);
  });

  it('speech: decode → VAD → model → language → transcribe → align → diarize → assemble, progress in table order', async () => {
    chunks = [{ start: 0, end: 2 }];
    const result = await pipeline().run('job-1', job({ alignWords: true, diarize: true }), twoSeconds, hooks());
    expect(calls).toEqual(['vad', 'acquire_model', 'detect_language', 'transcribe', 'align', 'diarize']);
    const order = PIPELINE_STAGES.map((row) => row.stage);
    const stages = progress.map(([stage]) => stage).filter((stage, i, all) => all[i - 1] !== stage);
    expect(stages).toEqual(['decode', 'vad', 'load_model', 'detect_language', 'transcribe', 'align', 'diarize', 'assemble']);
    expect(stages.map((stage) => order.indexOf(stage))).toEqual([...stages.map((stage) => order.indexOf(stage))].sort((a, b) => a - b));
    const percents = progress.map(([, percent]) => percent);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    // rounded once per stage output, to three decimals
    expect(result.segments[0]).toMatchObject({ start: 0.123, end: 1.988, avg_logprob: -0.123, no_speech_prob: 0.012, text: 'hello' });
    expect(result.segments[0].words).toEqual([{ word: 'hello', start: 0.123, end: 1.988, score: 0.988 }]);
    expect(result).toMatchObject({ language: 'en', language_probability: 0.9, duration: 2, model: 'fake-multi' });
    expect(Object.keys(result.timings_ms).sort()).toEqual(['align', 'decode', 'detect_language', 'diarize', 'load_model', 'transcribe', 'vad']);
  });

  it('a job cancelled after VAD stops with JobCancelledError before its model is acquired', async () => {
    const controller = new AbortController();
    speech.chunks.mockImplementationOnce(async () => {
      calls.push('vad');
      controller.abort();
      return [{ start: 0, end: 2 }];
    });
    const error = await failure(pipeline().run('job-1', job(), twoSeconds, hooks(controller.signal)));
    expect(error).toBeInstanceOf(JobCancelledError);
    expect(calls).toEqual(['vad']);
  });
  it.each([
    ['VAD chunks', true],
    ['the whole file (vad=false)', false],
  ])('initial_prompt reaches every whisper decode call: %s', async (_name, vad) => {
    chunks = [{ start: 0, end: 1 }, { start: 1, end: 2 }];
    await pipeline().run('job-1', job({ vad, initialPrompt: 'Ich bin ein Berliner.' }), twoSeconds, hooks());
    expect(decodeOptions.length).toBe(vad ? 2 : 1);
    for (const options of decodeOptions) expect(options.initialPrompt).toBe('Ich bin ein Berliner.');
  });

  it.each([
    ['VAD chunks', true],
    ['the whole file (vad=false)', false],
  ])('the decoding options reach every whisper decode call and the result reports them: %s', async (_name, vad) => {
    chunks = [{ start: 0, end: 1 }, { start: 1, end: 2 }];
    const options = { vad, task: 'translate' as const, temperature: [0.4], beamSize: 1, bestOf: 3, noSpeechThreshold: 0.25, conditionOnPreviousText: false };
    const result = await pipeline().run('job-1', job(options), twoSeconds, hooks());
    expect(decodeOptions.length).toBe(vad ? 2 : 1);
    for (const used of decodeOptions) {
      expect(used).toMatchObject({ translate: true, temperatures: [0.4], beamSize: 1, bestOf: 3, noSpeechThreshold: 0.25, conditionOnPreviousText: false, language: 'en' });
    }
    expect(result.decoding).toMatchObject({ task: 'translate', language: 'en', temperature: [0.4], beam_size: 1, best_of: 3, no_speech_threshold: 0.25, condition_on_previous_text: false });
    // what the (fake) model reported it was given
    expect(result.decoding?.whisper_params).toMatchObject({ translate: true, n_prompt_tokens: 3 });
    if (vad) expect(result.decoding?.vad).toEqual({ onset: 0.5, offset: 0.35, chunk_size: 30, chunks: [{ start: 0, end: 1 }, { start: 1, end: 2 }] });
    else expect(result.decoding).not.toHaveProperty('vad');
  });

  it('language forces the decoding language (no detection); the VAD gets vad_onset, vad_offset and chunk_size', async () => {
    chunks = [{ start: 0, end: 2 }];
    const result = await pipeline().run('job-1', job({ language: 'de', vadOnset: 0.7, vadOffset: 0.2, chunkSize: 12 }), twoSeconds, hooks());
    expect(calls).toEqual(['vad', 'acquire_model', 'transcribe']);
    expect(decodeOptions[0].language).toBe('de');
    expect(result).toMatchObject({ language: 'de', language_probability: 1 });
    expect(speech.chunks.mock.calls[0] as unknown[]).toEqual([expect.any(Float32Array), expect.any(Function), expect.anything(), expect.anything(), { onset: 0.7, offset: 0.2, chunkSeconds: 12 }]);
  });

  it('without the options, the defaults are today\'s: whisper-cli decoding, Silero 0.5/0.35, 30 s chunks', async () => {
    chunks = [{ start: 0, end: 2 }];
    await pipeline().run('job-1', job(), twoSeconds, hooks());
    expect(decodeOptions[0]).toMatchObject({ translate: false, temperatures: [0, 0.2, 0.4, 0.6, 0.8, 1], beamSize: 5, bestOf: 5, noSpeechThreshold: 0.6, conditionOnPreviousText: true });
    expect((speech.chunks.mock.calls[0] as unknown[])[4]).toEqual({ onset: 0.5, offset: 0.35, chunkSeconds: 30 });
  });

  it('task=translate on a model file that is English-only (a custom name) is a 400 once the model is known, silent audio included', async () => {
    const error = await failure(pipeline().run('job-1', job({ whisperModel: 'fake-english', task: 'translate' }), twoSeconds, hooks()));
    expect(error).toMatchObject({ code: ErrorCode.ValidationFailed, field: 'task', message: expect.stringMatching(/^task=translate needs a multilingual model/) });
    expect(calls).not.toContain('transcribe');
  });

  it('no initial_prompt: the decoder gets none', async () => {
    chunks = [{ start: 0, end: 2 }];
    await pipeline().run('job-1', job(), twoSeconds, hooks());
    expect(decodeOptions).toHaveLength(1);
    expect(decodeOptions[0].initialPrompt).toBeUndefined();
  });
});
