/**
 * Gives words or segments a speaker from diarization turns: the speaker with the largest total
 * overlap; when nothing overlaps, the speaker of the nearest turn (flagged `nearest`).
 */
import type { SpeakerAssignment, SpeakerSpeechTime, SpeakerTurn, Timed } from './diarization-types';

/** Speaker given to every item when there are no turns at all. */
export const NO_SPEAKER = '';

/**
 * One assignment per item, in the items' order. With no turns every item gets
 * `{ speaker: NO_SPEAKER }` (an empty string). Ties: equal overlap → the smaller speaker label;
 * equally near turns → the earlier one.
 * One sweep over items and turns sorted by start; each item only visits turns that are still
 * running when it starts.
 */
export function assignSpeakers<T extends Timed>(items: readonly T[], turns: readonly SpeakerTurn[]): SpeakerAssignment[] {
  if (turns.length === 0) return items.map(() => ({ speaker: NO_SPEAKER }));
  const sorted = [...turns].sort((a, b) => a.start - b.start || a.end - b.end);
  const starts = Float64Array.from(sorted, (t) => t.start);
  const order = items.map((_, i) => i).sort((a, b) => items[a].start - items[b].start);
  const result = new Array<SpeakerAssignment>(items.length);

  const active: number[] = []; // turns started before the frontier and not yet ended
  let next = 0;
  let frontier = -Infinity;
  let previous = -1; // ended turn with the latest end
  const overlap = new Map<string, number>();

  for (const i of order) {
    const s = items[i].start;
    const e = Math.max(items[i].end, s);
    if (e > frontier) frontier = e;
    while (next < sorted.length && sorted[next].start < frontier) active.push(next++);
    overlap.clear();
    for (let a = 0; a < active.length; ) {
      const t = sorted[active[a]];
      if (t.end <= s) {
        // ended for this and every later item (starts only grow)
        if (previous < 0 || t.end >= sorted[previous].end) previous = active[a];
        active[a] = active[active.length - 1];
        active.pop();
        continue;
      }
      const o = Math.min(e, t.end) - Math.max(s, t.start);
      if (o > 0) overlap.set(t.speaker, (overlap.get(t.speaker) ?? 0) + o);
      a++;
    }
    if (overlap.size > 0) {
      let best = '';
      let bestO = -1;
      for (const [speaker, o] of overlap) {
        if (o > bestO || (o === bestO && speaker < best)) {
          best = speaker;
          bestO = o;
        }
      }
      result[i] = { speaker: best };
      continue;
    }
    // nothing overlaps: nearest of the last ended turn, the first turn starting at/after e, and
    // running turns that only touch the item (zero-length items or turns)
    let best = -1;
    let bestGap = Infinity;
    const consider = (k: number): void => {
      const t = sorted[k];
      const gap = Math.max(0, t.start - e, s - t.end);
      if (gap < bestGap || (gap === bestGap && k < best)) {
        best = k;
        bestGap = gap;
      }
    };
    if (previous >= 0) consider(previous);
    const after = lowerBound(starts, e);
    if (after < sorted.length) consider(after);
    for (const k of active) consider(k);
    result[i] = { speaker: sorted[best].speaker, nearest: true };
  }
  return result;
}

/** First index whose value is ≥ x. */
function lowerBound(values: Float64Array, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Speech time per speaker (overlapping turns of one speaker counted once), sorted by id. */
export function speakingTime(turns: readonly SpeakerTurn[]): SpeakerSpeechTime[] {
  const bySpeaker = new Map<string, SpeakerTurn[]>();
  for (const t of turns) {
    const list = bySpeaker.get(t.speaker) ?? [];
    list.push(t);
    bySpeaker.set(t.speaker, list);
  }
  const out: SpeakerSpeechTime[] = [];
  for (const [id, list] of bySpeaker) {
    list.sort((a, b) => a.start - b.start);
    let seconds = 0;
    let runStart = -Infinity;
    let runEnd = -Infinity;
    for (const t of list) {
      if (t.end <= t.start) continue;
      if (t.start > runEnd) {
        if (runEnd > runStart) seconds += runEnd - runStart;
        runStart = t.start;
        runEnd = t.end;
      } else if (t.end > runEnd) {
        runEnd = t.end;
      }
    }
    if (runEnd > runStart) seconds += runEnd - runStart;
    out.push({ id, speech_seconds: seconds });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
