/**
 * Contract of the diarization library (pyannote/sherpa-onnx method, no Python): segmentation
 * windows → local speakers → embeddings → clustering → global speaker turns → words labelled.
 */

/** Speaker activity of one 10 s window: frames × localSpeakers probabilities (after powerset decoding). */
export interface WindowActivity {
  /** window start on the original timeline, seconds */
  start: number;
  /** frames × speakers, row-major, values in [0, 1] */
  activity: Float32Array;
  frames: number;
  speakers: number;
}

/** One speaker turn on the original timeline. */
export interface SpeakerTurn {
  start: number;
  end: number;
  /** "SPEAKER_00", "SPEAKER_01", … */
  speaker: string;
}

export interface ClusteringOptions {
  /** cosine distance threshold for agglomerative clustering (used when numSpeakers is not fixed) */
  threshold: number;
  /** exact number of clusters (min_speakers = max_speakers) */
  numSpeakers?: number;
  minSpeakers?: number;
  maxSpeakers?: number;
  linkage?: 'complete' | 'centroid' | 'average';
  /**
   * pyannote's min_cluster_size: clusters with fewer embeddings are not counted as speakers and are
   * merged into the closest large cluster (by centroid cosine distance); default 1 (off) here,
   * 12 in diarize() as pyannote 3.1. Capped at round(10 % of the embeddings) for short files.
   */
  minClusterSize?: number;
}

/** Seconds of speech per speaker (union of the speaker's turns). */
export interface SpeakerSpeechTime {
  id: string;
  speech_seconds: number;
}

export interface TurnOptions {
  /** drop turns shorter than this (pyannote min_duration_on), seconds; default 0 as pyannote 3.1 */
  minDurationOn?: number;
  /** merge same-speaker turns separated by less than this (pyannote min_duration_off), seconds; default 0 as pyannote 3.1 */
  mergeGap?: number;
}

/** Something with a time span that can be given a speaker (words and segments alike). */
export interface Timed {
  start: number;
  end: number;
}

export interface SpeakerAssignment {
  speaker: string;
  /** true when nothing overlapped and the nearest turn's speaker was used */
  nearest?: boolean;
}
