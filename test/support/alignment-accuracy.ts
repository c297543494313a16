import { mulberry32 } from '@app/testing';
import { alignSegment, WAV2VEC2_FRAME_GEOMETRY, Wav2Vec2CtcModel } from '@app/alignment';
import { synthesizeToneSpeech } from './tone-speech';

export interface BoundaryErrors {
  words: number;
  /** mean and max |aligned − true| over every word start and end, ms */
  meanMs: number;
  maxMs: number;
}


/** Random words over a–z, no letter doubled (a doubled tone has no blank between its letters). */
function randomSentence(next: () => number, words: number): string[] {
  const out: string[] = [];
  for (let w = 0; w < words; w++) {
    let word = '';
    const length = 2 + Math.floor(next() * 6);
    while (word.length < length) {
      const letter = String.fromCharCode(97 + Math.floor(next() * 26));
      if (letter !== word[word.length - 1]) word += letter;
    }
    out.push(word);
  }
  return out;
}

/**
 * Generates tone "speech" with known word boundaries (random letters, 50–140 ms each), runs the
 * designed wav2vec2 model and the forced aligner on it, and measures the boundary error.
 */
export async function measureAlignmentAccuracy(model: Wav2Vec2CtcModel, options: { sentences: number; seed?: number }): Promise<BoundaryErrors> {
  const next = mulberry32(options.seed ?? 7);
  const errors: number[] = [];
  for (let s = 0; s < options.sentences; s++) {
    const words = randomSentence(next, 3 + Math.floor(next() * 8));
    const speech = synthesizeToneSpeech(words, { charSeconds: () => 0.05 + next() * 0.09, gapSeconds: 0.06 + next() * 0.1, seed: s + 1, amplitude: 0.1 + next() * 0.6 });
    const emissions = await model.emissions(speech.pcm);
    const aligned = alignSegment({
      segment: { text: words.join(' '), start: 0, end: speech.duration },
      logits: emissions.logits,
      frames: emissions.frames,
      vocab: model.vocab,
      frameGeometry: WAV2VEC2_FRAME_GEOMETRY,
    });
    aligned.words.forEach((word, i) => {
      errors.push(Math.abs(word.start - speech.words[i].start) * 1000, Math.abs(word.end - speech.words[i].end) * 1000);
    });
  }
  return {
    words: errors.length / 2,
    meanMs: errors.reduce((a, b) => a + b, 0) / errors.length,
    maxMs: Math.max(...errors),
  };
}
