import fc from 'fast-check';
import { buildCtcVocabulary } from './ctc-vocabulary';
import { NO_WORD, WILDCARD_TOKEN, splitWords, tokenizeTranscript } from './transcript-tokens';

const vocab = buildCtcVocabulary({ '<pad>': 0, '|': 1, a: 2, b: 3, c: 4, "'": 5, 'é': 6 });
const noSeparator = buildCtcVocabulary({ '<pad>': 0, a: 1, b: 2, '你': 3 });

describe('tokenizeTranscript', () => {
  it('lower-cases, maps spaces to one separator and keeps the original words', () => {
    const t = tokenizeTranscript('  AB   c\tBa ', vocab);
    expect(t.words).toEqual(['AB', 'c', 'Ba']);
    expect(Array.from(t.tokens)).toEqual([2, 3, 1, 4, 1, 3, 2]);
    expect(Array.from(t.tokenWord)).toEqual([0, 0, NO_WORD, 1, NO_WORD, 2, 2]);
    expect(Array.from(t.tokenChar)).toEqual([0, 1, -1, 0, -1, 0, 1]);
    expect(t.wordLengths).toEqual([2, 1, 2]);
    expect(t.wildcards).toBe(0);
  });

  it('turns digits, punctuation, other scripts and a literal "|" into wildcards', () => {
    const t = tokenizeTranscript("A1b, c'|É你", vocab);
    expect(t.words).toEqual(['A1b,', "c'|É你"]);
    const W = WILDCARD_TOKEN;
    expect(Array.from(t.tokens)).toEqual([2, W, 3, W, 1, 4, 5, W, 6, W]);
    expect(t.wildcards).toBe(4);
  });

  it('emits no separators when the vocabulary has none', () => {
    const t = tokenizeTranscript('ab ba', noSeparator);
    expect(Array.from(t.tokens)).toEqual([1, 2, 2, 1]);
    expect(Array.from(t.tokenWord)).toEqual([0, 0, 1, 1]);
  });

  it('perCharacter: every non-space character is a word, no separators', () => {
    const t = tokenizeTranscript('你好 a😀', vocab, { perCharacter: true });
    expect(t.words).toEqual(['你', '好', 'a', '😀']);
    expect(Array.from(t.tokens)).toEqual([WILDCARD_TOKEN, WILDCARD_TOKEN, 2, WILDCARD_TOKEN]);
    expect(Array.from(t.tokenWord)).toEqual([0, 1, 2, 3]);
    expect(tokenizeTranscript('你', noSeparator, { perCharacter: true }).tokens[0]).toBe(3);
  });

  it('gives nothing for empty or whitespace-only text', () => {
    for (const text of ['', '   ', '\n\t\u3000']) {
      const t = tokenizeTranscript(text, vocab);
      expect(t.words).toEqual([]);
      expect(t.tokens.length).toBe(0);
    }
  });

  it('property: tokens line up with the words of any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.boolean(), (text, perCharacter) => {
        const t = tokenizeTranscript(text, vocab, { perCharacter });
        expect(t.words).toEqual(splitWords(text, perCharacter));
        const chars = t.wordLengths.reduce((s, n) => s + n, 0);
        const separators = perCharacter ? 0 : Math.max(0, t.words.length - 1);
        expect(t.tokens.length).toBe(chars + separators);
        t.tokens.forEach((token, k) => {
          const w = t.tokenWord[k];
          if (w === NO_WORD) {
            expect(token).toBe(vocab.separatorId);
            return;
          }
          const ch = Array.from(t.words[w])[t.tokenChar[k]];
          expect(ch).toBeDefined();
          expect(/\s/u.test(ch)).toBe(false);
          expect(token === WILDCARD_TOKEN || (token !== vocab.blankId && token !== vocab.separatorId)).toBe(true);
        });
      }),
    );
  });
});
