import type { SegmentResult, TranscriptionResult } from '../jobs';

/** How subtitles are cut into lines and cues (srt, vtt). Nothing set: one cue per segment (per speaker turn when diarized). */
export interface SubtitleShaping {
  /** characters per line (code points); a single longer word stays whole on its own line */
  maxLineWidth?: number;
  /** lines per cue: a longer stretch is split into several cues */
  maxLineCount?: number;
  /** words per line */
  maxWordsPerLine?: number;
  /** karaoke style: one cue per word time with the spoken word underlined (`<u>word</u>`) */
  highlightWords?: boolean;
}

/** One word as the writers place it: its own time when the result has one, else an interpolated one. */
export interface PlacedWord {
  text: string;
  start: number;
  end: number;
  /** false when the time was interpolated (no highlight for it) */
  timed: boolean;
}

/**
 * A stretch of one segment said by one speaker: the whole segment unless diarization put words of
 * several speakers in it. The unit of the text and tsv writers, and what subtitle cues never cross.
 */
export interface SpeakerRun {
  start: number;
  end: number;
  speaker?: string;
  /** the segment's text when the run is the whole segment, else its words joined */
  text: string;
  words: PlacedWord[];
}

export interface CueLine {
  words: PlacedWord[];
  /** the line as shown (markup aside) */
  text: string;
}

export interface Cue {
  start: number;
  end: number;
  speaker?: string;
  lines: CueLine[];
  /** karaoke cues: the index in `lines[].words` (flattened) of the word spoken now */
  highlighted?: number;
}

/** Whitespace of any kind (new lines included) collapsed to single spaces. */
export const normalizeSpace = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** Width as a reader sees it: code points, not UTF-16 units. */
export const displayWidth = (text: string): number => [...text].length;

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

/** A segment's words with times: untimed ones (or a segment without words) get times spread by length over the gap they sit in. */
function placeWords(segment: SegmentResult): (PlacedWord & { speaker?: string })[] {
  const source = segment.words?.length
    ? segment.words.map((w) => ({ text: normalizeSpace(w.word ?? ''), start: w.start, end: w.end, speaker: w.speaker ?? segment.speaker }))
    : normalizeSpace(segment.text ?? '').split(' ').map((text) => ({ text, start: NaN, end: NaN, speaker: segment.speaker }));
  const words = source
    .filter((w) => w.text.length > 0)
    .flatMap((w) => w.text.split(' ').map((text) => ({ ...w, text })))
    .map((w) => ({ ...w, timed: finite(w.start) && finite(w.end) && w.end >= w.start }));
  const segStart = finite(segment.start) ? segment.start : 0;
  const segEnd = finite(segment.end) ? Math.max(segment.end, segStart) : segStart;
  for (let i = 0; i < words.length; ) {
    if (words[i].timed) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < words.length && !words[j + 1].timed) j++;
    const lo = i > 0 ? words[i - 1].end : segStart;
    const hi = Math.max(lo, j + 1 < words.length ? words[j + 1].start : segEnd);
    const chars = words.slice(i, j + 1).reduce((sum, w) => sum + displayWidth(w.text), 0);
    let at = lo;
    for (let k = i; k <= j; k++) {
      const share = ((hi - lo) * displayWidth(words[k].text)) / chars;
      words[k].start = at;
      words[k].end = at + share;
      at += share;
    }
    i = j + 1;
  }
  return words;
}

/** Segments → speaker runs, in order; blank segments are left out. */
export function speakerRuns(result: TranscriptionResult): SpeakerRun[] {
  const runs: SpeakerRun[] = [];
  for (const segment of result.segments ?? []) {
    const words = placeWords(segment);
    if (words.length === 0) continue;
    const groups: (typeof words)[] = [];
    for (const word of words) {
      const last = groups[groups.length - 1];
      if (last && last[0].speaker === word.speaker) last.push(word);
      else groups.push([word]);
    }
    const whole = groups.length === 1;
    for (const group of groups) {
      const placed = group.map(({ text, start, end, timed }) => ({ text, start, end, timed }));
      runs.push({
        start: whole && finite(segment.start) ? Math.min(segment.start, placed[0].start) : placed[0].start,
        end: whole && finite(segment.end) ? Math.max(segment.end, placed[placed.length - 1].end) : placed[placed.length - 1].end,
        ...(group[0].speaker !== undefined ? { speaker: group[0].speaker } : {}),
        text: whole ? normalizeSpace(segment.text ?? '') || placed.map((w) => w.text).join(' ') : placed.map((w) => w.text).join(' '),
        words: placed,
      });
    }
  }
  return runs;
}

/**
 * A run's words → lines: a line ends before a word that would make it wider than maxLineWidth or
 * hold more than maxWordsPerLine words. Lines break between words only; a word wider than the line
 * stays whole on a line of its own. `prefixWidth(lineIndex)` reserves room for a label shown on that line.
 */
export function wrapLines(words: PlacedWord[], shaping: SubtitleShaping, prefixWidth: (line: number) => number = () => 0): CueLine[] {
  const maxWidth = shaping.maxLineWidth ?? Infinity;
  const maxWords = shaping.maxWordsPerLine ?? Infinity;
  const lines: PlacedWord[][] = [];
  let current: PlacedWord[] = [];
  let width = prefixWidth(0);
  for (const word of words) {
    const w = displayWidth(word.text);
    const added = (width > 0 ? 1 : 0) + w;
    if (current.length > 0 && (width + added > maxWidth || current.length >= maxWords)) {
      lines.push(current);
      current = [];
      width = prefixWidth(lines.length);
    }
    width += (width > 0 ? 1 : 0) + w;
    current.push(word);
  }
  if (current.length > 0) lines.push(current);
  return lines.map((line) => ({ words: line, text: line.map((w) => w.text).join(' ') }));
}

export interface CueOptions extends SubtitleShaping {
  /** width a speaker label takes on a cue's first line (0 when the label is markup, as VTT's <v>) */
  speakerLabelWidth?: (speaker: string) => number;
}

const isShaped = (s: SubtitleShaping) => s.maxLineWidth !== undefined || s.maxWordsPerLine !== undefined || s.highlightWords === true;

/**
 * The result as subtitle cues, in order and never overlapping: cues never cross a segment or a
 * speaker change, hold at most maxLineCount lines, and (highlightWords) split further into one cue
 * per spoken word with the gaps between words as plain cues.
 */
export function buildCues(result: TranscriptionResult, options: CueOptions = {}): Cue[] {
  const cues: Cue[] = [];
  const shaped = isShaped(options);
  const perCue = options.maxLineCount ?? Infinity;
  for (const run of speakerRuns(result)) {
    const label = run.speaker !== undefined && options.speakerLabelWidth ? options.speakerLabelWidth(run.speaker) : 0;
    const speaker = run.speaker !== undefined ? { speaker: run.speaker } : {};
    if (!shaped) {
      cues.push({ start: run.start, end: run.end, ...speaker, lines: [{ words: run.words, text: run.text }] });
      continue;
    }
    const lines = wrapLines(run.words, options, (index) => (index % perCue === 0 ? label : 0));
    const groups: CueLine[][] = [];
    for (let i = 0; i < lines.length; i += perCue === Infinity ? lines.length : perCue) groups.push(lines.slice(i, i + (perCue === Infinity ? lines.length : perCue)));
    groups.forEach((group, index) => {
      const first = group[0].words[0];
      const lastLine = group[group.length - 1].words;
      const last = lastLine[lastLine.length - 1];
      cues.push({
        start: index === 0 ? run.start : first.start,
        end: index === groups.length - 1 ? run.end : last.end,
        ...speaker,
        lines: group,
      });
    });
  }
  // in order, never overlapping: a cue starts no earlier than the previous one ended
  let previousEnd = 0;
  for (const cue of cues) {
    cue.start = Math.max(cue.start, previousEnd);
    cue.end = Math.max(cue.end, cue.start);
    previousEnd = cue.end;
  }
  return options.highlightWords ? cues.flatMap(karaoke) : cues;
}

/** One cue → plain cues for the gaps and one cue per timed word with that word highlighted (as WhisperX writes them). */
function karaoke(cue: Cue): Cue[] {
  const words = cue.lines.flatMap((line) => line.words);
  const out: Cue[] = [];
  let cursor = cue.start;
  words.forEach((word, index) => {
    if (!word.timed) return;
    const start = Math.min(Math.max(word.start, cursor), cue.end);
    const end = Math.min(Math.max(word.end, start), cue.end);
    if (end <= start) return;
    if (start > cursor) out.push({ ...cue, start: cursor, end: start, highlighted: undefined });
    out.push({ ...cue, start, end, highlighted: index });
    cursor = end;
  });
  if (cursor < cue.end || out.length === 0) out.push({ ...cue, start: cursor, end: cue.end, highlighted: undefined });
  return out.map((c) => (c.highlighted === undefined ? (({ highlighted: _h, ...rest }) => rest)(c) : c));
}
