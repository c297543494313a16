import { buildCtcVocabulary } from './ctc-vocabulary';

describe('buildCtcVocabulary', () => {
  it('reads a wav2vec2-base-960h style vocab.json', () => {
    const vocab = buildCtcVocabulary({ '<pad>': 0, '<s>': 1, '</s>': 2, '<unk>': 3, '|': 4, E: 5, T: 6, A: 7 });
    expect(vocab.blankId).toBe(0);
    expect(vocab.separatorId).toBe(4);
    expect(vocab.size).toBe(8);
    expect(vocab.ids.get('e')).toBe(5);
    expect(vocab.ids.has('E')).toBe(false);
  });

  it('finds a [PAD] blank that is not id 0 and sizes by the largest id', () => {
    const vocab = buildCtcVocabulary({ a: 0, b: 1, '[PAD]': 40, '|': 2 });
    expect(vocab.blankId).toBe(40);
    expect(vocab.size).toBe(41);
  });

  it('accepts <blank> and leaves separatorId out when there is no "|"', () => {
    const vocab = buildCtcVocabulary({ '<blank>': 3, x: 0 });
    expect(vocab.blankId).toBe(3);
    expect(vocab.separatorId).toBeUndefined();
    expect('separatorId' in vocab).toBe(false);
  });

  it('keeps the first id when keys collide after lower-casing', () => {
    const vocab = buildCtcVocabulary({ '<pad>': 0, A: 1, a: 2 });
    expect(vocab.ids.get('a')).toBe(1);
    expect(vocab.size).toBe(3);
  });

  it('throws a clear error without a blank, on an empty vocab or a bad id', () => {
    expect(() => buildCtcVocabulary({ a: 0, '|': 1 })).toThrow(/no blank token/);
    expect(() => buildCtcVocabulary({})).toThrow(/empty/);
    expect(() => buildCtcVocabulary({ '<pad>': 0, a: -1 })).toThrow(/non-negative integer/);
    expect(() => buildCtcVocabulary({ '<pad>': 0, a: 1.5 })).toThrow(/non-negative integer/);
  });
});
