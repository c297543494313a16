import { ErrorCode, ServiceError } from '@app/contracts';
import { checkLanguagesForModelName, pickLanguage, planLanguage } from './language-choice';

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

  const thrown = (run: () => unknown) => (() => { try { run(); } catch (e) { return e; } })() as ServiceError;

  it('English-only models accept only en', () => {
    expect(planLanguage(false, undefined, 'tiny.en')).toMatchObject({ kind: 'fixed', choice: { language: 'en' } });
    expect(planLanguage(false, ['en'], 'synthetic-micro-en')).toMatchObject({ kind: 'fixed', choice: { language: 'en' } });
    const error = thrown(() => planLanguage(false, ['de'], 'tiny.en'));
    expect(error.code).toBe(ErrorCode.UnsupportedLanguage);
    expect(error.field).toBe('allowed_languages');
  });

  it('English-only models refuse a list with any code besides en, naming it', () => {
    const error = thrown(() => planLanguage(false, ['en', 'de'], 'synthetic-micro-en'));
    expect(error).toBeInstanceOf(ServiceError);
    expect(error.code).toBe(ErrorCode.UnsupportedLanguage);
    expect(error.field).toBe('allowed_languages');
    expect(error.message).toBe('model "synthetic-micro-en" is English-only: allowed_languages may list only "en", not de');
  });

  it('a .en name is checked before the model is loaded; other names wait for the model', () => {
    expect(thrown(() => checkLanguagesForModelName('tiny.en', ['en', 'fr', 'de'])).message).toMatch(/not fr, de$/);
    expect(() => checkLanguagesForModelName('tiny.en', ['en'])).not.toThrow();
    expect(() => checkLanguagesForModelName('tiny.en', undefined)).not.toThrow();
    expect(() => checkLanguagesForModelName('small', ['en', 'de'])).not.toThrow();
    // a custom name says nothing: the loaded model decides (planLanguage)
    expect(() => checkLanguagesForModelName('mine.en', ['de'])).not.toThrow();
  });
});
