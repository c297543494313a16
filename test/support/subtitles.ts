/** A subtitle cue as read back from SRT or WebVTT text. */
export interface Cue {
  start: number;
  end: number;
  lines: string[];
}

/** hh:mm:ss,mmm, hh:mm:ss.mmm or (ffmpeg's WebVTT) mm:ss.mmm → seconds */
export function subtitleSeconds(stamp: string): number {
  const match = /^(?:(\d+):)?(\d{2}):(\d{2})[,.](\d{3})$/.exec(stamp.trim());
  if (!match) throw new Error(`bad timestamp "${stamp}"`);
  return Number(match[1] ?? 0) * 3600 + Number(match[2]) * 60 + Number(match[3]) + Number(match[4]) / 1000;
}

/** SRT or WebVTT → cues (index lines, the header and cue settings ignored). */
export function parseCues(text: string): Cue[] {
  const cues: Cue[] = [];
  for (const block of text.replace(/\r\n/g, '\n').split(/\n{2,}/)) {
    const lines = block.split('\n').filter((line) => line.length > 0);
    const timing = lines.findIndex((line) => line.includes('-->'));
    if (timing < 0) continue;
    const [start, end] = lines[timing].split('-->').map((part) => part.trim().split(/\s+/)[0]);
    cues.push({ start: subtitleSeconds(start), end: subtitleSeconds(end), lines: lines.slice(timing + 1) });
  }
  return cues;
}

/** Cues in order, none ending before it starts, none starting before the previous one ends. */
export function expectOrdered(cues: Cue[]): void {
  let previousEnd = 0;
  for (const cue of cues) {
    expect(cue.start).toBeGreaterThanOrEqual(previousEnd - 1e-9);
    expect(cue.end).toBeGreaterThanOrEqual(cue.start);
    previousEnd = cue.end;
  }
}
