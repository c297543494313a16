/**
 * Diarization error rate (NIST md-eval / pyannote.metrics definition), computed exactly by an
 * event sweep: (missed + false alarm + confusion) / reference speech, overlapped speech counted
 * once per speaker, with the hypothesis→reference speaker mapping that maximises matched time.
 */
import { maxWeightAssignment, type SpeakerTurn } from '@app/diarization';

export interface DerOptions {
  /**
   * seconds excluded on EACH side of every reference boundary (md-eval's collar); default 0.25.
   * pyannote.metrics' `collar` is the total width: its 0.5 equals 0.25 here
   */
  collar?: number;
  /** leave out regions where the reference has overlapping speech; default false */
  skipOverlap?: boolean;
}

export interface DerResult {
  /** (missed + falseAlarm + confusion) / total; 0 when nothing is scored and nothing is wrong, Infinity when only false alarms are */
  der: number;
  missed: number;
  falseAlarm: number;
  confusion: number;
  /** scored reference speech, seconds (per speaker) */
  total: number;
  /** hypothesis speaker → reference speaker (pairs that share scored time) */
  mapping: Map<string, string>;
}

interface Event {
  time: number;
  /** 0 = reference, 1 = hypothesis, 2 = collar */
  kind: 0 | 1 | 2;
  index: number;
  delta: 1 | -1;
}

function speakerIds(turns: readonly SpeakerTurn[]): string[] {
  return [...new Set(turns.map((t) => t.speaker))].sort();
}

export function diarizationErrorRate(reference: readonly SpeakerTurn[], hypothesis: readonly SpeakerTurn[], options: DerOptions = {}): DerResult {
  const collar = options.collar ?? 0.25;
  const refIds = speakerIds(reference);
  const hypIds = speakerIds(hypothesis);
  const refIndex = new Map(refIds.map((s, i) => [s, i]));
  const hypIndex = new Map(hypIds.map((s, i) => [s, i]));
  const events: Event[] = [];
  for (const t of reference) {
    if (t.end <= t.start) continue;
    const index = refIndex.get(t.speaker) as number;
    events.push({ time: t.start, kind: 0, index, delta: 1 }, { time: t.end, kind: 0, index, delta: -1 });
    if (collar > 0) {
      for (const b of [t.start, t.end]) events.push({ time: b - collar, kind: 2, index: 0, delta: 1 }, { time: b + collar, kind: 2, index: 0, delta: -1 });
    }
  }
  for (const t of hypothesis) {
    if (t.end <= t.start) continue;
    const index = hypIndex.get(t.speaker) as number;
    events.push({ time: t.start, kind: 1, index, delta: 1 }, { time: t.end, kind: 1, index, delta: -1 });
  }
  events.sort((a, b) => a.time - b.time);

  const R = refIds.length;
  const H = hypIds.length;
  // counts, not flags: overlapping turns of one speaker form their union
  const refOn = new Int32Array(R);
  const hypOn = new Int32Array(H);
  let collarOn = 0;
  const cooccur = new Float64Array(R * H);
  let total = 0;
  let missed = 0;
  let falseAlarm = 0;
  let matchable = 0; // Σ d·min(Nref, Nhyp): the most time that could be attributed correctly
  const activeRef: number[] = [];
  const activeHyp: number[] = [];
  for (let e = 0; e < events.length; ) {
    const time = events[e].time;
    for (; e < events.length && events[e].time === time; e++) {
      const ev = events[e];
      if (ev.kind === 0) refOn[ev.index] += ev.delta;
      else if (ev.kind === 1) hypOn[ev.index] += ev.delta;
      else collarOn += ev.delta;
    }
    if (e === events.length) break;
    const d = events[e].time - time;
    if (d <= 0 || collarOn > 0) continue;
    activeRef.length = 0;
    activeHyp.length = 0;
    for (let r = 0; r < R; r++) if (refOn[r] > 0) activeRef.push(r);
    for (let h = 0; h < H; h++) if (hypOn[h] > 0) activeHyp.push(h);
    const nr = activeRef.length;
    const nh = activeHyp.length;
    if (options.skipOverlap && nr > 1) continue;
    total += d * nr;
    if (nr > nh) missed += d * (nr - nh);
    else falseAlarm += d * (nh - nr);
    matchable += d * Math.min(nr, nh);
    for (const r of activeRef) for (const h of activeHyp) cooccur[r * H + h] += d;
  }

  const assignment = maxWeightAssignment(cooccur, R, H);
  const mapping = new Map<string, string>();
  let correct = 0;
  for (let r = 0; r < R; r++) {
    const h = assignment[r];
    if (h < 0 || cooccur[r * H + h] === 0) continue;
    correct += cooccur[r * H + h];
    mapping.set(hypIds[h], refIds[r]);
  }
  const confusion = Math.max(0, matchable - correct);
  const errors = missed + falseAlarm + confusion;
  const der = total > 0 ? errors / total : errors > 0 ? Infinity : 0;
  return { der, missed, falseAlarm, confusion, total, mapping };
}
