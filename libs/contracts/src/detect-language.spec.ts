import {
  checkDetectLanguageOptions,
  describeDetectLanguageOptions,
  detectLanguageResponse,
  LanguageDetectionResult,
  rankLanguages,
  readDetectLanguageForm,
} from './detect-language';
import { ServiceError } from './errors';
import { describeOptions } from './transcribe-options';

function problem(run: () => unknown): { field?: string; message: string } | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    return { field: error.field, message: error.message };
  }
}

describe('readDetectLanguageForm', () => {
  it('applies the defaults: VAD on, the worker\'s model, top 5', () => {
    expect(readDetectLanguageForm({})).toEqual({ options: { vad: true }, top: 5 });
  });

  it('reads whisper_model, vad and top with the options table\'s parsers', () => {
    expect(readDetectLanguageForm({ whisper_model: 'small', vad: 'false', top: ' 12 ' })).toEqual({ options: { whisperModel: 'small', vad: false }, top: 12 });
  });

  it('names the field and says what is wrong', () => {
    expect(problem(() => readDetectLanguageForm({ top: '0' }))).toEqual({ field: 'top', message: expect.stringMatching(/top must be .*1.*100/) });
    expect(problem(() => readDetectLanguageForm({ top: '2.5' }))?.field).toBe('top');
    expect(problem(() => readDetectLanguageForm({ vad: 'perhaps' }))?.field).toBe('vad');
    expect(problem(() => readDetectLanguageForm({ whisper_model: '../etc/passwd' }))?.field).toBe('whisper_model');
    expect(problem(() => readDetectLanguageForm({ diarize: 'true' }))).toEqual({ field: 'diarize', message: 'unknown field "diarize"' });
  });
});

describe('checkDetectLanguageOptions (the worker\'s re-check)', () => {
  it('keeps valid options and defaults vad', () => {
    expect(checkDetectLanguageOptions({ whisperModel: 'tiny' })).toEqual({ whisperModel: 'tiny', vad: true });
  });

  it('refuses what the API would have refused', () => {
    expect(problem(() => checkDetectLanguageOptions({ vad: 'yes' }))?.field).toBe('vad');
    expect(problem(() => checkDetectLanguageOptions({ whisperModel: 'a/b' }))?.field).toBe('whisper_model');
  });
});

describe('describeDetectLanguageOptions', () => {
  it('shares whisper_model and vad with POST /transcribe\'s table, word for word', () => {
    const described = describeDetectLanguageOptions();
    expect(described.map((option) => option.name)).toEqual(['whisper_model', 'vad', 'audio_url', 'top']);
    const transcribe = describeOptions();
    for (const name of ['whisper_model', 'vad', 'audio_url']) {
      expect(described.find((option) => option.name === name)).toEqual(transcribe.find((option) => option.name === name));
    }
    expect(described[3]).toMatchObject({ type: 'int', minimum: 1, maximum: 100, default: 5 });
  });
});

describe('rankLanguages and the response', () => {
  const result = (languages: LanguageDetectionResult['languages']): LanguageDetectionResult => ({
    job_id: 'job', model: 'small', duration: 3, speech_start: 0.5, languages, timings_ms: {},
  });

  it('ranks by probability, rounds, drops zeros, breaks ties by code', () => {
    expect(rankLanguages({ de: 0.1, en: 0.6, fr: 0.1, ja: 0.00001, es: 0.19999 })).toEqual([
      { language: 'en', probability: 0.6 },
      { language: 'es', probability: 0.2 },
      { language: 'de', probability: 0.1 },
      { language: 'fr', probability: 0.1 },
    ]);
  });

  it('answers the best language with its name and the top N', () => {
    const ranked = rankLanguages({ de: 0.7, en: 0.2, nl: 0.1 });
    expect(detectLanguageResponse(result(ranked), 2)).toEqual({
      language: 'de',
      language_name: 'german',
      probability: 0.7,
      languages: [
        { language: 'de', name: 'german', probability: 0.7 },
        { language: 'en', name: 'english', probability: 0.2 },
      ],
      speech_start: 0.5,
      duration: 3,
      model: 'small',
      job_id: 'job',
    });
  });

  it('no speech: language null', () => {
    expect(detectLanguageResponse({ ...result([]), speech_start: null }, 5)).toMatchObject({ language: null, language_name: null, probability: 0, languages: [] });
  });
});
