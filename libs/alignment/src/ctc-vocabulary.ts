import type { CtcVocabulary } from './alignment-types';

/** Names wav2vec2 checkpoints use for the CTC blank, in order of preference (keys are compared lower-cased). */
const BLANK_NAMES = ['<pad>', '[pad]', '<blank>'] as const;

/** wav2vec2 CTC vocabularies mark word boundaries with this token. */
export const WORD_SEPARATOR = '|';

/**
 * Builds the aligner's view of a wav2vec2 `vocab.json` (token → column id).
 * Keys are lower-cased because transcripts are lower-cased before lookup; when two keys
 * collide (e.g. "A" and "a") the first one in the file wins so ids stay deterministic.
 * Throws on a vocabulary the aligner cannot use: that is a model/config error, not bad content.
 */
export function buildCtcVocabulary(vocabJson: Record<string, number>): CtcVocabulary {
  const ids = new Map<string, number>();
  let maxId = -1;
  for (const [key, id] of Object.entries(vocabJson)) {
    if (!Number.isInteger(id) || id < 0) {
      throw new Error(`CTC vocabulary: id of ${JSON.stringify(key)} must be a non-negative integer, got ${String(id)}`);
    }
    maxId = Math.max(maxId, id);
    const lower = key.toLowerCase();
    if (!ids.has(lower)) ids.set(lower, id);
  }
  if (maxId < 0) throw new Error('CTC vocabulary is empty');

  const blankName = BLANK_NAMES.find((name) => ids.has(name));
  if (blankName === undefined) {
    throw new Error(`CTC vocabulary has no blank token (looked for ${BLANK_NAMES.join(', ')})`);
  }
  const blankId = ids.get(blankName) as number;
  const separatorId = ids.get(WORD_SEPARATOR);
  return {
    ids,
    blankId,
    ...(separatorId !== undefined ? { separatorId } : {}),
    size: maxId + 1,
  };
}
