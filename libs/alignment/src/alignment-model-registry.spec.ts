import { isWhisperLanguage } from '@app/contracts';
import { DEFAULT_ALIGNMENT_MODELS, locateAlignmentModel } from './alignment-model-registry';

describe('DEFAULT_ALIGNMENT_MODELS (WhisperX current table)', () => {
  it('names only languages whisper can detect, each with an owner/name repository', () => {
    for (const [language, repo] of Object.entries(DEFAULT_ALIGNMENT_MODELS)) {
      expect([language, isWhisperLanguage(language)]).toEqual([language, true]);
      expect(repo).toMatch(/^[\w.-]+\/[\w.-]+$/);
    }
  });

  it('follows WhisperX off models without a CTC head or superseded', () => {
    expect(DEFAULT_ALIGNMENT_MODELS.vi).toBe('nguyenvulebinh/wav2vec2-base-vi-vlsp2020');
    expect(DEFAULT_ALIGNMENT_MODELS.no).toBe('NbAiLab/nb-wav2vec2-1b-bokmaal-v2');
    expect(DEFAULT_ALIGNMENT_MODELS.nn).toBe('NbAiLab/nb-wav2vec2-1b-nynorsk');
    for (const added of ['sk', 'sl', 'hr', 'ro', 'eu', 'gl', 'ka', 'lv', 'tl', 'sv', 'id']) expect(DEFAULT_ALIGNMENT_MODELS[added]).toBeDefined();
  });

  it('reports an absent model by the default repository name', () => {
    const location = locateAlignmentModel('sv', '/nonexistent-model-dir');
    expect(location).toMatchObject({ present: false, sourceRepo: 'KBLab/wav2vec2-large-voxrex-swedish', name: 'wav2vec2-large-voxrex-swedish' });
  });
});
