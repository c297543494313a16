import type { AlignedWord, AlignmentInput, CtcVocabulary, SegmentAlignment } from './alignment-types';
import { NO_WORD, TranscriptTokens, WILDCARD_TOKEN, tokenizeTranscript } from './transcript-tokens';

/*
 * CTC forced alignment after WhisperX / the torchaudio forced-alignment tutorial: a (T+1)×(L+1)
 * trellis where each token is first emitted at one frame ("change") and the frames after it
 * "stay" on it, emitting blank or repeating the token, whichever is likelier (WhisperX stays on
 * blank only, which assumes peaky posteriors). A token's span ends after the last frame that
 * emitted it, so trailing silence belongs to no word. Only two float rows are kept; the choice
 * per cell is one bit, so a segment costs T·L/8 bytes.
 */

/** Log-probabilities of one segment, frames × width, row-major. */
export interface EmissionMatrix {
  logProbs: Float32Array;
  frames: number;
  /** vocab.size, +1 when the wildcard column was built */
  width: number;
  blankId: number;
  /** column holding max over non-blank log-probs per frame; -1 when not built */
  wildcardColumn: number;
}

/** Per-token frame spans found by the trellis. */
export interface TokenSpans {
  /** the frame that emits the token */
  start: Int32Array;
  /** exclusive: one past the last frame that emitted this token (trailing blanks excluded) */
  end: Int32Array;
  /** mean frame probability over [start, end) */
  score: Float64Array;
  /** log-probability of the best complete path (leading and trailing blanks included) */
  logProb: number;
}

export type ForcedAlignResult = { ok: true; spans: TokenSpans } | { ok: false; reason: string };

/** Backpointers beyond this would mean a pathological segment (hours long); interpolate instead. */
export const MAX_BACKPOINTER_BYTES = 256 * 1024 * 1024;

/**
 * Numerically stable log-softmax per frame, plus the wildcard column when asked.
 * Returns undefined when a frame has NaN/+Infinity or no finite logit: such emissions cannot be aligned.
 */
export function computeEmissions(
  logits: Float32Array,
  frames: number,
  size: number,
  blankId: number,
  withWildcard: boolean,
): EmissionMatrix | undefined {
  const width = withWildcard ? size + 1 : size;
  const logProbs = new Float32Array(frames * width);
  for (let t = 0; t < frames; t++) {
    const src = t * size;
    let max = -Infinity;
    for (let k = 0; k < size; k++) {
      const x = logits[src + k];
      if (x > max) max = x;
      else if (x !== x) return undefined; // NaN
    }
    if (!Number.isFinite(max)) return undefined;
    let sum = 0;
    for (let k = 0; k < size; k++) sum += Math.exp(logits[src + k] - max);
    const logZ = max + Math.log(sum);
    const dst = t * width;
    let wildcard = -Infinity;
    for (let k = 0; k < size; k++) {
      const lp = logits[src + k] - logZ;
      logProbs[dst + k] = lp;
      if (k !== blankId && lp > wildcard) wildcard = lp;
    }
    if (withWildcard) logProbs[dst + size] = wildcard;
  }
  return { logProbs, frames, width, blankId, wildcardColumn: withWildcard ? size : -1 };
}

/**
 * Viterbi over the trellis, then backtrack. `columns[j]` is the emission column of token j.
 * End of the path: neither WhisperX's "last frame" (the last word would swallow all trailing
 * silence) nor torchaudio's plain argmax over t of trellis[t][L] (shorter paths pay for fewer
 * frames, which biases the last token early). Every path explains all T frames: frames after
 * the last token's emission are trailing blanks owned by no token (mirroring leading blanks),
 * so the end is argmax over t of trellis[t][L] + Σ_{u≥t} log p(blank at u), taken where the
 * last token was just emitted.
 */
export function forcedAlign(em: EmissionMatrix, columns: Int32Array): ForcedAlignResult {
  const T = em.frames;
  const L = columns.length;
  const W = em.width;
  const lp = em.logProbs;
  const blank = em.blankId;
  if (L === 0) return { ok: false, reason: 'no tokens to align' };
  if (L > T) return { ok: false, reason: `${L} tokens cannot fit in ${T} frames` };
  const stride = (L + 7) >> 3; // bytes of backpointers per frame
  if (T * stride > MAX_BACKPOINTER_BYTES) return { ok: false, reason: `segment too long to align (${T} frames × ${L} tokens)` };

  const back = new Uint8Array(T * stride); // bit (t, j-1) set ⇔ trellis[t+1][j] came from "change"
  const trailing = trailingBlanks(em);
  const lastByte = (L - 1) >> 3;
  const lastBit = (L - 1) & 7;
  let prev = new Float64Array(L + 1).fill(-Infinity);
  let cur = new Float64Array(L + 1).fill(-Infinity);
  prev[0] = 0;
  let best = -Infinity;
  let bestT = -1;

  for (let t = 0; t < T; t++) {
    const row = t * W;
    const eBlank = lp[row + blank];
    cur[0] = prev[0] + eBlank;
    // Band: token j needs j frames before it and L-j after it; cells outside can't reach the end.
    const jLo = Math.max(1, L - T + t + 1);
    const jHi = Math.min(L, t + 1);
    const rowBits = t * stride;
    let acc = 0;
    for (let j = jLo; j <= jHi; j++) {
      // staying on token j may emit blank or repeat the token (CTC collapses repeats); WhisperX's
      // blank-only stay assumes peaky emissions and drifts on models whose posteriors are wide
      const eToken = lp[row + columns[j - 1]];
      const stay = prev[j] + (eToken > eBlank ? eToken : eBlank);
      const change = prev[j - 1] + eToken;
      const bit = (j - 1) & 7;
      if (change > stay) {
        cur[j] = change;
        acc |= 1 << bit;
      } else {
        cur[j] = stay;
      }
      if (bit === 7) {
        back[rowBits + ((j - 1) >> 3)] = acc;
        acc = 0;
      }
    }
    if (((jHi - 1) & 7) !== 7) back[rowBits + ((jHi - 1) >> 3)] = acc;
    // A path ending here with the last token's emission, completed by trailing blanks.
    const lastEmitted = ((back[rowBits + lastByte] >> lastBit) & 1) === 1 || lp[row + columns[L - 1]] > eBlank;
    if (jHi === L && lastEmitted) {
      const complete = cur[L] + trailing[t + 1];
      if (complete > best) {
        best = complete;
        bestT = t + 1;
      }
    }
    const swap = prev;
    prev = cur;
    cur = swap;
  }
  if (bestT < 0) return { ok: false, reason: 'no finite alignment path (emissions rule the transcript out)' };
  return backtrack(em, columns, back, stride, bestT, best);
}

/** trailing[t] = Σ_{u≥t} log p(blank at u): the cost of ending the path at frame t. */
function trailingBlanks(em: EmissionMatrix): Float64Array {
  const trailing = new Float64Array(em.frames + 1);
  for (let t = em.frames - 1; t >= 0; t--) trailing[t] = trailing[t + 1] + em.logProbs[t * em.width + em.blankId];
  return trailing;
}

function backtrack(
  em: EmissionMatrix,
  columns: Int32Array,
  back: Uint8Array,
  stride: number,
  endT: number,
  logProb: number,
): ForcedAlignResult {
  const L = columns.length;
  const W = em.width;
  const lp = em.logProbs;
  const start = new Int32Array(L);
  const end = new Int32Array(L);
  const score = new Float64Array(L);
  let j = L;
  let t = endT;
  let probSum = 0;
  let spanEnd = endT;
  // last frame (exclusive) where the current token itself was emitted: its end, trailing blanks excluded
  let ownEnd = -1;
  while (j > 0) {
    if (t === 0) return { ok: false, reason: 'backtrack ran out of frames' }; // unreachable when best is finite
    const f = t - 1;
    const changed = ((back[f * stride + ((j - 1) >> 3)] >> ((j - 1) & 7)) & 1) === 1;
    const eToken = lp[f * W + columns[j - 1]];
    const eBlank = lp[f * W + em.blankId];
    const emitsToken = changed || eToken > eBlank;
    if (emitsToken && ownEnd < 0) ownEnd = f + 1;
    probSum += Math.exp(emitsToken ? eToken : eBlank);
    if (changed) {
      const token = j - 1;
      start[token] = f;
      end[token] = ownEnd;
      score[token] = probSum / (spanEnd - f);
      probSum = 0;
      spanEnd = f;
      ownEnd = -1;
      j--;
    }
    t--;
  }
  return { ok: true, spans: { start, end, score, logProb } };
}

/** Programmer errors only: bad content never throws. */
function validateInput(input: AlignmentInput): void {
  const { frames, vocab, logits } = input;
  if (!Number.isInteger(frames) || frames < 0) throw new RangeError(`frames must be a non-negative integer, got ${frames}`);
  if (!Number.isInteger(vocab.size) || vocab.size < 1) throw new RangeError(`vocab.size must be a positive integer, got ${vocab.size}`);
  if (!Number.isInteger(vocab.blankId) || vocab.blankId < 0 || vocab.blankId >= vocab.size) {
    throw new RangeError(`vocab.blankId ${vocab.blankId} outside 0..${vocab.size - 1}`);
  }
  if (logits.length !== frames * vocab.size) {
    throw new RangeError(`logits.length ${logits.length} !== frames ${frames} × vocab.size ${vocab.size}`);
  }
}

function checkTokenIds(tokens: Int32Array, vocab: CtcVocabulary): void {
  for (const id of tokens) {
    if (id !== WILDCARD_TOKEN && id >= vocab.size) throw new RangeError(`vocabulary id ${id} >= vocab.size ${vocab.size}`);
  }
}

/** Segment times as usable numbers: a broken segment collapses to a point instead of producing NaN. */
function segmentBounds(input: AlignmentInput): { start: number; end: number } {
  const start = Number.isFinite(input.segment.start) ? input.segment.start : 0;
  const end = Number.isFinite(input.segment.end) && input.segment.end > start ? input.segment.end : start;
  return { start, end };
}

/** Tokens that take part in one alignment attempt, with their emission columns and words. */
interface AlignmentPlan {
  columns: Int32Array;
  words: Int32Array;
  hasWildcard: boolean;
  /** set when tokens had to be dropped to fit the frames */
  note?: string;
}

/**
 * The full transcript first; when it has more tokens than frames, retry with fewer tokens
 * (drop wildcards, then separators too) so the real letters still get times.
 */
function planAlignment(transcript: TranscriptTokens, frames: number, wildcardColumn: number): AlignmentPlan | undefined {
  const attempts: Array<{ keep: (token: number, word: number) => boolean; note?: string }> = [
    { keep: () => true },
    { keep: (token) => token !== WILDCARD_TOKEN, note: 'characters outside the vocabulary were skipped' },
    {
      keep: (token, word) => token !== WILDCARD_TOKEN && word !== NO_WORD,
      note: 'characters outside the vocabulary and word separators were skipped',
    },
  ];
  for (const { keep, note } of attempts) {
    const picked: number[] = [];
    transcript.tokens.forEach((token, k) => {
      if (keep(token, transcript.tokenWord[k])) picked.push(k);
    });
    if (picked.length === 0 || picked.length > frames) continue;
    const columns = Int32Array.from(picked, (k) => {
      const token = transcript.tokens[k];
      return token === WILDCARD_TOKEN ? wildcardColumn : token;
    });
    const words = Int32Array.from(picked, (k) => transcript.tokenWord[k]);
    const hasWildcard = picked.some((k) => transcript.tokens[k] === WILDCARD_TOKEN);
    const fitNote = note && `${transcript.tokens.length} tokens for ${frames} frames: ${note}`;
    return { columns, words, hasWildcard, ...(fitNote ? { note: fitNote } : {}) };
  }
  return undefined;
}

interface WordFrames {
  /** first and exclusive last frame per word; -1 when the word got no frame */
  start: Int32Array;
  end: Int32Array;
  score: Float64Array;
}

/** A word spans its characters' frames; separators belong to no word. */
function wordFrames(spans: TokenSpans, tokenWords: Int32Array, wordCount: number): WordFrames {
  const start = new Int32Array(wordCount).fill(-1);
  const end = new Int32Array(wordCount).fill(-1);
  const score = new Float64Array(wordCount);
  const chars = new Int32Array(wordCount);
  tokenWords.forEach((w, k) => {
    if (w === NO_WORD) return;
    if (start[w] < 0 || spans.start[k] < start[w]) start[w] = spans.start[k];
    if (spans.end[k] > end[w]) end[w] = spans.end[k];
    score[w] += spans.score[k];
    chars[w]++;
  });
  for (let w = 0; w < wordCount; w++) if (chars[w] > 0) score[w] /= chars[w];
  return { start, end, score };
}

/**
 * Fills the words that got no time: a run of them shares evenly the gap between its aligned
 * neighbours (segment edges when none); when nothing aligned, the whole segment is split in
 * proportion to word length, which is a better guess of speaking time than an even split.
 */
export function interpolateWords(
  starts: Float64Array,
  ends: Float64Array,
  aligned: Uint8Array,
  weights: readonly number[],
  segStart: number,
  segEnd: number,
): void {
  const n = starts.length;
  const anyAligned = aligned.some((a) => a === 1);
  let i = 0;
  while (i < n) {
    if (aligned[i]) {
      i++;
      continue;
    }
    let k = i;
    while (k < n && !aligned[k]) k++;
    const left = i > 0 ? ends[i - 1] : segStart;
    const right = Math.max(left, k < n ? starts[k] : segEnd);
    const runWeights = weights.slice(i, k).map((w) => (anyAligned ? 1 : Math.max(1, w)));
    const total = runWeights.reduce((sum, w) => sum + w, 0);
    let acc = 0;
    for (let m = i; m < k; m++) {
      starts[m] = left + ((right - left) * acc) / total;
      acc += runWeights[m - i];
      ends[m] = m === k - 1 ? right : left + ((right - left) * acc) / total;
    }
    i = k;
  }
}

function result(
  transcript: TranscriptTokens,
  bounds: { start: number; end: number },
  frames: WordFrames | undefined,
  secondsPerFrame: number,
  reason?: string,
  frameOffsetSeconds = 0,
): SegmentAlignment {
  const n = transcript.words.length;
  const starts = new Float64Array(n);
  const ends = new Float64Array(n);
  const aligned = new Uint8Array(n);
  if (frames) {
    for (let w = 0; w < n; w++) {
      if (frames.start[w] < 0) continue;
      aligned[w] = 1;
      starts[w] = bounds.start + frameOffsetSeconds + frames.start[w] * secondsPerFrame;
      ends[w] = bounds.start + frameOffsetSeconds + frames.end[w] * secondsPerFrame;
    }
  }
  interpolateWords(starts, ends, aligned, transcript.wordLengths, bounds.start, bounds.end);

  const words: AlignedWord[] = [];
  let floor = bounds.start;
  let interpolated = 0;
  for (let w = 0; w < n; w++) {
    // Clamp against float rounding at the segment end and keep starts monotone.
    const start = Math.min(bounds.end, Math.max(floor, starts[w]));
    const end = Math.min(bounds.end, Math.max(start, ends[w]));
    floor = start;
    if (aligned[w]) {
      const score = Math.min(1, Math.max(0, (frames as WordFrames).score[w]));
      words.push({ word: transcript.words[w], start, end, score });
    } else {
      interpolated++;
      words.push({ word: transcript.words[w], start, end, score: 0, interpolated: true });
    }
  }
  if (interpolated === 0) return { words, status: 'ok' };
  if (interpolated === n) return { words, status: 'interpolated', reason: reason ?? 'no word could be aligned' };
  const detail = reason ? ` (${reason})` : '';
  return { words, status: 'partial', reason: `${interpolated} of ${n} words had no alignable characters${detail}` };
}

/**
 * Aligns one segment's text to its emissions. Frames map linearly onto [segment.start, segment.end]
 * (WhisperX's duration / frames ratio). Never throws for content: words that cannot be aligned
 * get interpolated times and the status says why.
 */
export function alignSegment(input: AlignmentInput): SegmentAlignment {
  validateInput(input);
  const { frames, vocab } = input;
  const transcript = tokenizeTranscript(input.segment.text, vocab, { perCharacter: input.perCharacter });
  checkTokenIds(transcript.tokens, vocab);
  if (transcript.words.length === 0) return { words: [], status: 'ok' };

  const bounds = segmentBounds(input);
  const interpolateAll = (reason: string) => result(transcript, bounds, undefined, 0, reason);
  if (frames === 0) return interpolateAll('no emission frames for this segment');

  const plan = planAlignment(transcript, frames, vocab.size);
  if (!plan) return interpolateAll(`${transcript.tokens.length} tokens cannot fit in ${frames} frames`);
  const em = computeEmissions(input.logits, frames, vocab.size, vocab.blankId, plan.hasWildcard);
  if (!em) return interpolateAll('emissions contain NaN or infinite logits');
  const aligned = forcedAlign(em, plan.columns);
  if (!aligned.ok) return interpolateAll(aligned.reason);

  // the model's real frame geometry when known; else WhisperX's duration / frames ratio
  const secondsPerFrame = input.frameGeometry?.strideSeconds ?? (bounds.end - bounds.start) / frames;
  const frameSpans = wordFrames(aligned.spans, plan.words, transcript.words.length);
  return result(transcript, bounds, frameSpans, secondsPerFrame, plan.note, input.frameGeometry?.offsetSeconds ?? 0);
}
