import { WhisperToken } from './whisper-types';

export interface TimedWord {
  word: string;
  start: number;
  end: number;
  /** mean probability of the word's tokens */
  score: number;
}

/**
 * Groups whisper's BPE tokens into words: a token that starts with a space (or follows
 * nothing) opens a word, the others continue it. Times come from token timestamps, at full
 * precision (the worker rounds the result).
 */
export function tokensToWords(tokens: readonly WhisperToken[], offsetSeconds = 0): TimedWord[] {
  const words: TimedWord[] = [];
  let text = '';
  let start = 0;
  let end = 0;
  let probabilitySum = 0;
  let count = 0;
  const flush = () => {
    const word = text.trim();
    if (word) {
      words.push({ word, start: start + offsetSeconds, end: Math.max(end, start) + offsetSeconds, score: probabilitySum / count });
    }
    text = '';
    probabilitySum = 0;
    count = 0;
  };
  for (const token of tokens) {
    if (!token.text) continue;
    if (token.text.startsWith(' ') || count === 0) {
      flush();
      start = token.start;
    }
    text += token.text;
    end = token.end;
    probabilitySum += token.p;
    count += 1;
  }
  flush();
  return words;
}
