import type { CtcVocabulary } from './alignment-types';

/** Token for a character outside the vocabulary: it may take any non-blank emission (WhisperX's "*"). */
export const WILDCARD_TOKEN = -1;

/** Separators belong to no word. */
export const NO_WORD = -1;

export interface TokenizeOptions {
  /** ja/zh: every non-space character is its own word and no separators are emitted */
  perCharacter?: boolean;
}

/** A segment's text as the sequence of tokens the aligner forces through the emissions. */
export interface TranscriptTokens {
  /** words in order, as written in the original text (casing and punctuation kept) */
  words: string[];
  /** characters (code points) per word; weights for proportional interpolation */
  wordLengths: number[];
  /** vocab id per token, WILDCARD_TOKEN for characters outside the vocabulary */
  tokens: Int32Array;
  /** word index per token, NO_WORD for separators */
  tokenWord: Int32Array;
  /** code-point index inside its word, -1 for separators */
  tokenChar: Int32Array;
  /** how many tokens are WILDCARD_TOKEN (the aligner only builds the wildcard column when > 0) */
  wildcards: number;
}

const WHITESPACE = /\s+/u;

/**
 * Splits text into the words the output reports. Code points rather than UTF-16 units, so an
 * astral character (emoji, rare CJK) is one "word" in perCharacter mode.
 */
export function splitWords(text: string, perCharacter = false): string[] {
  const pieces = text.split(WHITESPACE).filter((piece) => piece.length > 0);
  return perCharacter ? pieces.flatMap((piece) => Array.from(piece)) : pieces;
}

/**
 * Maps one original character to its column. A character that lower-cases to the separator
 * or the blank must not act as one (a literal "|" in the text is punctuation), so it becomes a wildcard.
 */
function characterToken(ch: string, vocab: CtcVocabulary): number {
  const id = vocab.ids.get(ch.toLowerCase());
  if (id === undefined || id === vocab.blankId || id === vocab.separatorId) return WILDCARD_TOKEN;
  return id;
}

/**
 * Lower-cases and tokenises a segment's text: one token per non-space character (vocab id or
 * wildcard) and one separator between words when the vocabulary has one. Runs of whitespace
 * collapse into one separator; leading/trailing whitespace produces none.
 */
export function tokenizeTranscript(text: string, vocab: CtcVocabulary, options: TokenizeOptions = {}): TranscriptTokens {
  const perCharacter = options.perCharacter === true;
  const words = splitWords(text, perCharacter);
  const wordChars = words.map((word) => Array.from(word));
  const wordLengths = wordChars.map((chars) => chars.length);
  const useSeparator = !perCharacter && vocab.separatorId !== undefined;

  const charCount = wordLengths.reduce((sum, n) => sum + n, 0);
  const length = charCount + (useSeparator ? Math.max(0, words.length - 1) : 0);
  const tokens = new Int32Array(length);
  const tokenWord = new Int32Array(length);
  const tokenChar = new Int32Array(length);
  let wildcards = 0;
  let k = 0;
  wordChars.forEach((chars, w) => {
    if (useSeparator && w > 0) {
      tokens[k] = vocab.separatorId as number;
      tokenWord[k] = NO_WORD;
      tokenChar[k] = -1;
      k++;
    }
    chars.forEach((ch, c) => {
      const token = characterToken(ch, vocab);
      if (token === WILDCARD_TOKEN) wildcards++;
      tokens[k] = token;
      tokenWord[k] = w;
      tokenChar[k] = c;
      k++;
    });
  });
  return { words, wordLengths, tokens, tokenWord, tokenChar, wildcards };
}
