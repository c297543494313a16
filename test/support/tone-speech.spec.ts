import { TONE_FREQUENCIES } from '../../scripts/fixtures/tone-ctc-model';
import { MIN_CHAR_SECONDS, placeWordsInSpan, synthesizeToneSegments, synthesizeToneSpeech } from './tone-speech';

const TEN_WORDS = ['we', 'choose', 'to', 'go', 'to', 'the', 'moon', 'in', 'this', 'decade'];

/** Peak |sample| inside [start, end) seconds. */
function peak(pcm: Float32Array, start: number, end: number, sr = 16000): number {
  let max = 0;
  for (let n = Math.round(start * sr); n < Math.round(end * sr); n++) max = Math.max(max, Math.abs(pcm[n]));
  return max;
}

describe('synthesizeToneSpeech', () => {
  it('lays out characters, gaps and silence with sample-exact ground truth', () => {
    const s = synthesizeToneSpeech(['hi', 'yo'], { start: 0.5, trailing: 0.25, charSeconds: 0.1, gapSeconds: 0.05, amplitude: 0.4 });
    expect(s.words).toEqual([
      { word: 'hi', start: 0.5, end: 0.7 },
      { word: 'yo', start: 0.75, end: 0.95 },
    ]);
    expect(s.chars.map((c) => c.tone)).toEqual(['H', 'I', '|', 'Y', 'O']);
    expect(s.chars[2]).toMatchObject({ start: 0.7, end: 0.75, wordIndex: null });
    expect(s.pcm.length).toBe(Math.round(1.2 * 16000));
    expect(s.duration).toBeCloseTo(1.2, 9);
    expect(peak(s.pcm, 0, 0.5)).toBe(0);
    expect(peak(s.pcm, 0.95, 1.2)).toBe(0);
    expect(peak(s.pcm, 0.52, 0.68)).toBeCloseTo(0.4, 2);
  });

  it('fades tones in and out over 5 ms', () => {
    const s = synthesizeToneSpeech(['a'], { start: 0.1, charSeconds: 0.1, amplitude: 1 });
    expect(peak(s.pcm, 0.1, 0.1005)).toBeLessThan(0.05);
    expect(peak(s.pcm, 0.1995, 0.2)).toBeLessThan(0.05);
    expect(peak(s.pcm, 0.11, 0.19)).toBeGreaterThan(0.99);
  });

  it('renders characters without a tone as silence of the same duration', () => {
    const s = synthesizeToneSpeech(['a-1'], { start: 0, charSeconds: 0.1 });
    expect(s.chars.map((c) => c.tone)).toEqual(['A', null, null]);
    expect(s.words[0]).toEqual({ word: 'a-1', start: 0, end: 0.3 });
    expect(peak(s.pcm, 0.1, 0.3)).toBe(0);
  });

  it('calls a duration function once per character and adds seeded noise', () => {
    let calls = 0;
    const s = synthesizeToneSpeech(['abc', 'de'], { charSeconds: () => 0.05 + 0.01 * calls++, noise: 0.01, seed: 5 });
    expect(calls).toBe(5);
    expect(s.chars[5].end - s.chars[5].start).toBeCloseTo(0.09, 9); // "e", after the gap
    expect(peak(s.pcm, 0, 0.3)).toBeGreaterThan(0);
    expect(synthesizeToneSpeech(['abc'], { noise: 0.01, seed: 5 }).pcm).toEqual(synthesizeToneSpeech(['abc'], { noise: 0.01, seed: 5 }).pcm);
  });

  it('has a tone for every letter, the apostrophe and the separator', () => {
    expect([...TONE_FREQUENCIES.keys()].sort().join('')).toBe("'ABCDEFGHIJKLMNOPQRSTUVWXYZ|");
  });
});

describe('placeWordsInSpan', () => {
  it('fits ten words inside [0, 5] s', () => {
    const place = placeWordsInSpan(TEN_WORDS, 0, 5);
    const s = synthesizeToneSpeech(TEN_WORDS, { ...place, trailing: 0 });
    expect(s.words[0].start).toBeCloseTo(0.1, 9);
    expect(s.words[9].end).toBeCloseTo(4.9, 3);
    expect(place.charSeconds).toBeGreaterThanOrEqual(MIN_CHAR_SECONDS);
  });

  it('caps the character length in long spans and refuses impossible ones', () => {
    expect(placeWordsInSpan(['hi'], 10, 20).charSeconds).toBe(0.2);
    expect(() => placeWordsInSpan(TEN_WORDS, 0, 1)).toThrow(/do not fit/);
  });

  it('renders several spans on one timeline', () => {
    const s = synthesizeToneSegments(
      [
        { words: TEN_WORDS, start: 0, end: 5 },
        { words: ['and', 'do', 'the', 'other', 'things'], start: 5.5, end: 8 },
      ],
      { totalSeconds: 9, amplitude: 0.3 },
    );
    expect(s.duration).toBe(9);
    expect(s.words).toHaveLength(15);
    expect(s.words.slice(0, 10).every((w) => w.start >= 0 && w.end <= 5)).toBe(true);
    expect(s.words.slice(10).every((w) => w.start >= 5.5 && w.end <= 8)).toBe(true);
    expect(s.chars.filter((c) => c.wordIndex === 10).map((c) => c.tone).join('')).toBe('AND');
    expect(peak(s.pcm, 5, 5.5)).toBe(0);
  });
});
