import { ErrorCode } from './errors';
import { parseTranscribeJobData } from './job-validation';

const valid = { options: { batchSize: 16, diarize: false, alignWords: false }, sizeBytes: 10, acceptedAt: 1 };

describe('parseTranscribeJobData', () => {
  it('accepts a well-formed payload', () => {
    expect(parseTranscribeJobData({ ...valid, options: { ...valid.options, allowedLanguages: ['en', 'de'], whisperModel: 'synthetic-tiny' } }).options).toMatchObject({
      allowedLanguages: ['en', 'de'],
      whisperModel: 'synthetic-tiny',
    });
  });

  it.each([
    ['null', null, 'data'],
    ['batch 0', { ...valid, options: { ...valid.options, batchSize: 0 } }, 'batch_size'],
    ['string bool', { ...valid, options: { ...valid.options, diarize: 'false' } }, 'diarize'],
    ['path model', { ...valid, options: { ...valid.options, whisperModel: '../x' } }, 'whisper_model'],
    ['min > max', { ...valid, options: { ...valid.options, minSpeakers: 3, maxSpeakers: 2 } }, 'min_speakers'],
    ['bad language', { ...valid, options: { ...valid.options, allowedLanguages: ['xx'] } }, 'allowed_languages'],
  ])('rejects %s', (_name, data, field) => {
    expect(() => parseTranscribeJobData(data)).toThrow(expect.objectContaining({ code: ErrorCode.ValidationFailed, field }));
  });
});
