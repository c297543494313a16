import { tokensToWords } from './words';

const token = (text: string, start: number, end: number, p = 0.5) => ({ id: 1, text, start, end, p, plog: Math.log(p) });

describe('tokensToWords', () => {
  it('joins continuation tokens and splits on leading spaces', () => {
    const words = tokensToWords([token(' And', 0.3, 0.5, 0.9), token(' so', 0.5, 0.6, 0.7), token(' my', 0.6, 0.7), token(' fel', 0.7, 0.8, 0.4), token('low', 0.8, 1.0, 0.6)]);
    expect(words.map((w) => w.word)).toEqual(['And', 'so', 'my', 'fellow']);
    expect(words[3]).toEqual({ word: 'fellow', start: 0.7, end: 1.0, score: 0.5 });
  });

  it('shifts by an offset and skips blank tokens', () => {
    const words = tokensToWords([token('Hi', 0, 0.2), token(' ', 0.2, 0.3), token('', 0.3, 0.3), token(' there', 0.3, 0.6)], 10);
    expect(words).toEqual([
      { word: 'Hi', start: 10, end: 10.2, score: 0.5 },
      { word: 'there', start: 10.3, end: 10.6, score: 0.5 },
    ]);
  });

  it('returns nothing for no tokens', () => {
    expect(tokensToWords([])).toEqual([]);
  });
});
