import { performance } from 'node:perf_hooks';
import { alignSegment, buildCtcVocabulary, type CtcVocabulary, tokenizeTranscript, WILDCARD_TOKEN } from '@app/alignment';
import { mulberry32 } from '@app/testing';

export interface AlignmentBenchmarkOptions {
  audioSeconds: number;
  /** logits columns; default 32 like wav2vec2-base-960h */
  vocabSize?: number;
  minSegmentSeconds?: number;
  maxSegmentSeconds?: number;
  seed?: number;
}

export interface AlignmentBenchmarkResult {
  audioSeconds: number;
  /** time spent inside alignSegment only (logit generation excluded) */
  wallMs: number;
  /** audio seconds aligned per wall second */
  realtimeFactor: number;
  segments: number;
}

/** wav2vec2 emits 50 frames per second of 16 kHz audio (320-sample stride). */
const FRAMES_PER_SECOND = 50;
/** Typical speaking rate in characters (spaces included) per second. */
const CHARS_PER_SECOND = 15;
/** The wav2vec2-base-960h vocabulary, in its id order. */
const BASE_VOCAB = "<pad> <s> </s> <unk> | E T A O N I H S R D L U M W C F G Y P B V K ' X J Q Z".split(' ');
const WORDS = (
  'the of and to a in is it you that he was for on are with as his they be at one have this from ' +
  'or had by word but what some we can out other were all there when up use your how said an each ' +
  "she which do their time if will way about many then them write would like so these her long make " +
  "thing see him two has look more day could go come did number sound no most people my over know " +
  "water than call first who may down side been now find don't it's 2024 3.5 okay, well. right? yes!"
).split(' ');


function benchmarkVocabulary(size: number): CtcVocabulary {
  if (!Number.isInteger(size) || size < 6) throw new RangeError(`vocabSize must be an integer >= 6, got ${size}`);
  const json: Record<string, number> = {};
  for (let id = 0; id < size; id++) json[id < BASE_VOCAB.length ? BASE_VOCAB[id] : `<extra_${id}>`] = id;
  return buildCtcVocabulary(json);
}

function randomTranscript(seconds: number, random: () => number): string {
  const target = Math.max(1, Math.round(seconds * CHARS_PER_SECOND));
  const words: string[] = [];
  let length = 0;
  while (length < target) {
    const word = WORDS[Math.floor(random() * WORDS.length)];
    words.push(word);
    length += word.length + 1;
  }
  return words.join(' ');
}

/**
 * Emissions shaped like a real model's: blank dominates, and each token peaks at evenly spaced
 * frames, so the aligner walks a realistic path (its cost does not depend on the values anyway).
 */
function syntheticLogits(text: string, frames: number, vocab: CtcVocabulary, random: () => number): Float32Array {
  const size = vocab.size;
  const logits = new Float32Array(frames * size);
  for (let i = 0; i < logits.length; i++) logits[i] = random() * 2;
  for (let t = 0; t < frames; t++) logits[t * size + vocab.blankId] += 4;
  const { tokens } = tokenizeTranscript(text, vocab);
  const step = frames / Math.max(1, tokens.length);
  tokens.forEach((token, k) => {
    const id = token === WILDCARD_TOKEN ? Math.floor(random() * size) : token;
    const frame = Math.min(frames - 1, Math.floor((k + 0.5) * step));
    logits[frame * size + id] += 8;
  });
  return logits;
}

/**
 * Times alignSegment over `audioSeconds` of synthetic segments. Each segment's logits are
 * generated just before it is aligned and dropped after, so memory stays at one segment.
 */
export function benchmarkAlignment(options: AlignmentBenchmarkOptions): AlignmentBenchmarkResult {
  const { audioSeconds, vocabSize = 32, minSegmentSeconds = 10, maxSegmentSeconds = 30, seed = 1 } = options;
  if (!(audioSeconds > 0)) throw new RangeError(`audioSeconds must be > 0, got ${audioSeconds}`);
  if (!(minSegmentSeconds > 0) || !(maxSegmentSeconds >= minSegmentSeconds)) {
    throw new RangeError('need 0 < minSegmentSeconds <= maxSegmentSeconds');
  }
  const vocab = benchmarkVocabulary(vocabSize);
  const random = mulberry32(seed);
  let position = 0;
  let wallMs = 0;
  let segments = 0;
  while (position < audioSeconds) {
    const wanted = minSegmentSeconds + random() * (maxSegmentSeconds - minSegmentSeconds);
    const seconds = Math.min(wanted, audioSeconds - position);
    const frames = Math.max(1, Math.round(seconds * FRAMES_PER_SECOND));
    const text = randomTranscript(seconds, random);
    const logits = syntheticLogits(text, frames, vocab, random);
    const segment = { text, start: position, end: position + seconds };
    const began = performance.now();
    alignSegment({ segment, logits, frames, vocab });
    wallMs += performance.now() - began;
    position += seconds;
    segments++;
  }
  return { audioSeconds, wallMs, realtimeFactor: audioSeconds / (wallMs / 1000), segments };
}

if (require.main === module) {
  const seconds = Number(process.argv[2] ?? 3600);
  console.log(JSON.stringify(benchmarkAlignment({ audioSeconds: seconds })));
}
