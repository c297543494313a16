import { ErrorCode, ServiceError } from '@app/contracts';
import { pickLanguage, planLanguage } from './language-choice';

describe('language choice', () => {
  const probabilities = { en: 0.2, de: 0.5, fr: 0.3 };

  it('takes the overall argmax without restriction', () => {
    expect(pickLanguage(probabilities)).toEqual({ language: 'de', probability: 0.5, detected: true });
  });

  it('takes the argmax over the allowed codes only', () => {
    expect(pickLanguage(probabilities, ['en', 'fr'])).toEqual({ language: 'fr', probability: 0.3, detected: true });
  });

  it('forces a single allowed language without detection', () => {
    expect(planLanguage(true, ['fr'], 'small')).toEqual({ kind: 'fixed', choice: { language: 'fr', probability: 1, detected: false } });
    expect(planLanguage(true, ['fr', 'de'], 'small')).toEqual({ kind: 'detect', allowed: ['fr', 'de'] });
    expect(planLanguage(true, undefined, 'small')).toEqual({ kind: 'detect', allowed: undefined });
  });

  it('English-only models accept only en', () => {
    expect(planLanguage(false, undefined, 'tiny.en')).toMatchObject({ kind: 'fixed', choice: { language: 'en' } });
    expect(planLanguage(false, ['en', 'de'], 'tiny.en')).toMatchObject({ kind: 'fixed', choice: { language: 'en' } });
    const error = (() => { try { planLanguage(false, ['de'], 'tiny.en'); } catch (e) { return e; } })() as ServiceError;
    expect(error.code).toBe(ErrorCode.UnsupportedLanguage);
    expect(error.field).toBe('allowed_languages');
  });
});
