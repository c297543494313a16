import { assertEnglishOnlyLanguages, isEnglishOnlyModelName } from '@app/contracts';
import { LanguageProbabilities } from '@app/whisper';

export interface LanguageChoice {
  language: string;
  probability: number;
  /** true when detection ran (false: forced by the request or by an English-only model) */
  detected: boolean;
}

/** What must happen before decoding: nothing to detect, or a detection restricted to some codes. */
export type LanguagePlan = { kind: 'fixed'; choice: LanguageChoice } | { kind: 'detect'; allowed?: string[] };

/** Before loading: a .en name is English-only before its file is even fetched (a 400, not a download). */
export function checkLanguagesForModelName(modelName: string, allowed: string[] | undefined): void {
  if (isEnglishOnlyModelName(modelName)) assertEnglishOnlyLanguages(modelName, allowed);
}

/** After loading: the model itself says whether it is English-only (custom models included). */
export function planLanguage(isMultilingual: boolean, allowed: string[] | undefined, modelName: string): LanguagePlan {
  if (!isMultilingual) {
    assertEnglishOnlyLanguages(modelName, allowed);
    return { kind: 'fixed', choice: { language: 'en', probability: 1, detected: false } };
  }
  if (allowed?.length === 1) return { kind: 'fixed', choice: { language: allowed[0], probability: 1, detected: false } };
  return { kind: 'detect', allowed };
}

/** argmax of whisper's language probabilities, over the allowed codes when given. */
export function pickLanguage(probabilities: Readonly<LanguageProbabilities>, allowed?: string[]): LanguageChoice {
  const candidates = allowed ?? Object.keys(probabilities);
  let best = { language: candidates[0] ?? 'en', probability: -1 };
  for (const code of candidates) {
    const p = probabilities[code] ?? 0;
    if (p > best.probability) best = { language: code, probability: p };
  }
  return { ...best, probability: Math.max(0, best.probability), detected: true };
}
