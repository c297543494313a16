import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { NO_SPEAKER, assignSpeakers, speakingTime } from './assignment';
import type { SpeakerTurn, Timed } from './diarization-types';

const turn = (start: number, end: number, speaker: string): SpeakerTurn => ({ start, end, speaker });

/** Brute force: total overlap of an item with each speaker. */
function overlaps(item: Timed, turns: SpeakerTurn[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of turns) {
    const o = Math.min(item.end, t.end) - Math.max(item.start, t.start);
    if (o > 0) m.set(t.speaker, (m.get(t.speaker) ?? 0) + o);
  }
  return m;
}

const gap = (item: Timed, t: SpeakerTurn) => Math.max(0, t.start - item.end, item.start - t.end);

describe('assignSpeakers', () => {
  const turns = [turn(0, 5, 'SPEAKER_00'), turn(4, 10, 'SPEAKER_01'), turn(12, 15, 'SPEAKER_00')];

  it('gives the speaker with the largest overlap', () => {
    const out = assignSpeakers([{ start: 1, end: 2 }, { start: 4.2, end: 6 }, { start: 3, end: 4.6 }], turns);
    expect(out).toEqual([{ speaker: 'SPEAKER_00' }, { speaker: 'SPEAKER_01' }, { speaker: 'SPEAKER_00' }]);
  });

  it('sums a speaker’s overlap over several turns', () => {
    // B: 1 + 1 = 2 s over two turns beats A's single 1.7 s turn
    const two = [turn(0, 1, 'B'), turn(2, 3, 'B'), turn(0.5, 2.2, 'A')];
    expect(assignSpeakers([{ start: 0, end: 3 }], two)[0]).toEqual({ speaker: 'B' });
  });

  it('breaks an exact tie towards the smaller label', () => {
    // 9..13: SPEAKER_01 1 s (9..10), SPEAKER_00 1 s (12..13)
    expect(assignSpeakers([{ start: 9, end: 13 }], turns)[0]).toEqual({ speaker: 'SPEAKER_00' });
  });

  it('falls back to the nearest turn and flags it', () => {
    const out = assignSpeakers([{ start: 10.5, end: 11 }, { start: 11.2, end: 11.8 }, { start: 20, end: 21 }, { start: -3, end: -2 }], turns);
    expect(out).toEqual([
      { speaker: 'SPEAKER_01', nearest: true },
      { speaker: 'SPEAKER_00', nearest: true },
      { speaker: 'SPEAKER_00', nearest: true },
      { speaker: 'SPEAKER_00', nearest: true },
    ]);
  });

  it('handles zero-length items: inside a turn → that turn, flagged nearest (nothing overlaps)', () => {
    expect(assignSpeakers([{ start: 7, end: 7 }], turns)).toEqual([{ speaker: 'SPEAKER_01', nearest: true }]);
  });

  it('keeps the items’ order whatever order they come in', () => {
    const out = assignSpeakers([{ start: 13, end: 14 }, { start: 1, end: 2 }, { start: 6, end: 7 }], turns);
    expect(out.map((a) => a.speaker)).toEqual(['SPEAKER_00', 'SPEAKER_00', 'SPEAKER_01']);
  });

  it('without turns every item gets NO_SPEAKER (empty string)', () => {
    expect(NO_SPEAKER).toBe('');
    expect(assignSpeakers([{ start: 0, end: 1 }], [])).toEqual([{ speaker: '' }]);
    expect(assignSpeakers([], turns)).toEqual([]);
  });

  it('property: every item gets a speaker of maximal overlap, or the nearest turn when none overlaps', () => {
    const span = fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 30 })).map(([a, l]) => ({ start: a / 4, end: (a + l) / 4 }));
    const turnsArb = fc.array(fc.tuple(span, fc.constantFrom('A', 'B', 'C', 'D')).map(([s, sp]) => turn(s.start, s.end, sp)), { minLength: 1, maxLength: 25 });
    fc.assert(
      fc.property(fc.array(span, { maxLength: 40 }), turnsArb, (items, ts) => {
        const out = assignSpeakers(items, ts);
        expect(out).toHaveLength(items.length);
        items.forEach((item, i) => {
          const o = overlaps(item, ts);
          if (o.size > 0) {
            const max = Math.max(...o.values());
            expect(out[i].nearest).toBeUndefined();
            expect(o.get(out[i].speaker)).toBeCloseTo(max, 9);
          } else {
            expect(out[i].nearest).toBe(true);
            const minGap = Math.min(...ts.map((t) => gap(item, t)));
            const mine = Math.min(...ts.filter((t) => t.speaker === out[i].speaker).map((t) => gap(item, t)));
            expect(mine).toBeCloseTo(minGap, 9);
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('sweeps 100k words against 3k turns quickly', () => {
    const ts: SpeakerTurn[] = [];
    for (let t = 0; t < 3600; t += 1.2) ts.push(turn(t, t + 1.1, `SPEAKER_0${Math.floor(t) % 4}`));
    const words: Timed[] = [];
    for (let w = 0; w < 100_000; w++) words.push({ start: w * 0.036, end: w * 0.036 + 0.03 });
    const t0 = performance.now();
    const out = assignSpeakers(words, ts);
    const ms = performance.now() - t0;
    expect(out.every((a) => a.speaker.startsWith('SPEAKER_'))).toBe(true);
    expect(ms).toBeLessThan(1000);
  });
});

describe('speakingTime', () => {
  it('sums each speaker’s turns, overlaps counted once, sorted by id', () => {
    const out = speakingTime([turn(5, 7, 'SPEAKER_01'), turn(0, 2, 'SPEAKER_00'), turn(1, 3, 'SPEAKER_00'), turn(10, 10.5, 'SPEAKER_00')]);
    expect(out).toEqual([
      { id: 'SPEAKER_00', speech_seconds: 3.5 },
      { id: 'SPEAKER_01', speech_seconds: 2 },
    ]);
    expect(speakingTime([])).toEqual([]);
  });
});
