/**
 * Contract between the CTC forced aligner (pure TypeScript), the ONNX model wrapper and the worker.
 */

/** A wav2vec2 CTC vocabulary as the aligner needs it. */
export interface CtcVocabulary {
  /** lower-cased token → id (vocab.json keys lower-cased; the word separator is "|") */
  ids: ReadonlyMap<string, number>;
  /** id of the CTC blank, looked up by name (<pad> or [PAD]); not always 0 */
  blankId: number;
  /** id of "|" when the vocabulary has one (spaces in the transcript map to it) */
  separatorId?: number;
  /** number of columns in the logits */
  size: number;
}

export interface AlignedWord {
  word: string;
  /** seconds on the original timeline */
  start: number;
  end: number;
  /** mean frame probability of the word's aligned characters, 0..1 */
  score: number;
  /** true when the word had no alignable characters (or alignment failed) and its times were interpolated */
  interpolated?: boolean;
}

export interface SegmentToAlign {
  text: string;
  /** seconds on the original timeline */
  start: number;
  end: number;
}

export interface AlignmentInput {
  segment: SegmentToAlign;
  /** emissions for exactly this segment's audio: frames × vocab.size, row-major, raw logits */
  logits: Float32Array;
  frames: number;
  vocab: CtcVocabulary;
  /** ja/zh and other languages without spaces: every character is its own "word" */
  perCharacter?: boolean;
  /**
   * Where frames sit in time, when the model's geometry is known (wav2vec2: 20 ms stride; a frame
   * boundary lies (receptive field − stride) / 2 = 2.5 ms after the stride grid). Without it frames
   * are spread evenly over the segment (WhisperX's ratio), which drifts by ~1 % of the segment.
   */
  frameGeometry?: { strideSeconds: number; offsetSeconds: number };
}

export type SegmentAlignmentStatus =
  /** every word was aligned from the emissions */
  | 'ok'
  /** some words were interpolated (no alignable characters) */
  | 'partial'
  /** nothing could be aligned (empty transcript, too few frames, …): every word interpolated */
  | 'interpolated';

export interface SegmentAlignment {
  words: AlignedWord[];
  status: SegmentAlignmentStatus;
  /** why, when status is not ok */
  reason?: string;
}
