import fc from 'fast-check';
import type { SegmentResult, TranscriptionResult, WordResult } from '../jobs';
import { buildCues, speakerRuns } from './cues';
import { languageName } from './language-names';
import { formatTimestamp, toMilliseconds } from './timestamps';
import { compressionRatio, FORMAT_MEDIA, renderTranscript, RESPONSE_FORMATS, transcriptText, writeJson, writeSrt, writeText, writeTsv, writeVerboseJson, writeVtt } from './writers';

// ---- small parsers: what a subtitle player reads back ----

interface ParsedCue {
  index?: number;
  start: number;
  end: number;
  lines: string[];
}

function parseTime(text: string): number {
  const match = /^(\d{2,}):(\d{2}):(\d{2})[,.](\d{3})$/.exec(text);
  if (!match) throw new Error(`bad timestamp ${text}`);
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]) + Number(match[4]) / 1000;
}

function parseSrt(text: string): ParsedCue[] {
  if (text === '') return [];
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((block) => {
      const [index, timing, ...lines] = block.split('\n');
      const [start, end] = timing.split(' --> ');
      expect(lines.length).toBeGreaterThan(0);
      return { index: Number(index), start: parseTime(start), end: parseTime(end), lines };
    });
}

function parseVtt(text: string): ParsedCue[] {
  expect(text.startsWith('WEBVTT\n\n')).toBe(true);
  const body = text.slice('WEBVTT\n\n'.length);
  if (body === '') return [];
  return body
    .slice(0, -2)
    .split('\n\n')
    .map((block) => {
      const [timing, ...lines] = block.split('\n');
      const [start, end] = timing.split(' --> ');
      return { start: parseTime(start), end: parseTime(end), lines };
    });
}

const unescapeVtt = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** A cue's speaker label and its words (markup removed). */
function cueContent(lines: string[], style: 'srt' | 'vtt'): { speaker?: string; words: string[] } {
  let first = lines[0];
  let speaker: string | undefined;
  const label = style === 'srt' ? /^\[([^\]]+)\] / : /^<v ([^>]+)>/;
  const match = label.exec(first);
  if (match) {
    speaker = match[1];
    first = first.slice(match[0].length);
  }
  const words = [first, ...lines.slice(1)]
    .join(' ')
    .replace(/<\/?u>/g, '')
    .split(' ')
    .filter(Boolean)
    .map((w) => (style === 'vtt' ? unescapeVtt(w) : w));
  return { speaker, words };
}

// ---- fixtures ----

function word(text: string, start: number, end: number, speaker?: string): WordResult {
  return { word: text, start, end, score: 0.9, ...(speaker ? { speaker } : {}) };
}

function segment(id: number, words: WordResult[], speaker?: string, text?: string): SegmentResult {
  return {
    id,
    start: words[0]?.start ?? 0,
    end: words[words.length - 1]?.end ?? 0,
    text: text ?? ` ${words.map((w) => w.word).join(' ')}`,
    ...(speaker ? { speaker } : {}),
    avg_logprob: -0.25,
    no_speech_prob: 0.01,
    words,
  };
}

function resultOf(segments: SegmentResult[], language = 'en'): TranscriptionResult {
  return {
    job_id: 'job',
    language,
    language_probability: 0.99,
    duration: segments.length ? segments[segments.length - 1].end + 1 : 0,
    model: 'tiny',
    segments,
    word_segments: segments.flatMap((s) => s.words),
    timings_ms: {},
  };
}

const sample = resultOf([
  segment(0, [word('Hello', 0.5, 0.9), word('world.', 1, 1.6)]),
  segment(1, [word('And', 2, 2.2), word('so', 2.3, 2.5), word('my', 2.6, 2.8), word('fellow', 2.9, 3.4), word('Americans,', 3.5, 4.2)]),
]);

const diarized = resultOf([
  segment(0, [word('Hi', 0, 0.4, 'SPEAKER_00'), word('there.', 0.5, 1, 'SPEAKER_00'), word('Hello!', 1.2, 1.8, 'SPEAKER_01')], 'SPEAKER_00'),
  segment(1, [word('How', 2, 2.3, 'SPEAKER_01'), word('are', 2.4, 2.6, 'SPEAKER_01'), word('you?', 2.7, 3, 'SPEAKER_01')], 'SPEAKER_01'),
]);

describe('timestamps', () => {
  it('formats SRT and VTT times to the millisecond, hours past 99 included', () => {
    expect(formatTimestamp(1.234, ',')).toBe('00:00:01,234');
    expect(formatTimestamp(1.234, '.')).toBe('00:00:01.234');
    expect(formatTimestamp(3661.0005, ',')).toBe('01:01:01,001');
    expect(formatTimestamp(59.9996, '.')).toBe('00:01:00.000');
    expect(formatTimestamp(100 * 3600 + 0.5, ',')).toBe('100:00:00,500');
    expect(formatTimestamp(-1, ',')).toBe('00:00:00,000');
    expect(formatTimestamp(NaN, '.')).toBe('00:00:00.000');
    expect(toMilliseconds(1.2345)).toBe(1235);
  });

  it('round-trips any time through the parser', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 * 3600 * 1000 }), (ms) => {
        expect(Math.round(parseTime(formatTimestamp(ms / 1000, ',')) * 1000)).toBe(ms);
      }),
    );
  });
});

describe('json and verbose_json', () => {
  it('json is the stored result plus the joined text', () => {
    const body = writeJson(sample);
    expect(body.text).toBe('Hello world. And so my fellow Americans,');
    expect(body.segments).toBe(sample.segments);
    expect(body.job_id).toBe('job');
  });

  it('verbose_json has OpenAI shape: language name, seek, tokens, temperature, compression ratio; words only when asked', () => {
    const body = writeVerboseJson(sample);
    expect(body).toMatchObject({ task: 'transcribe', language: 'english', duration: sample.duration, text: transcriptText(sample) });
    expect(body.words).toBeUndefined();
    expect(body.segments[1]).toEqual({
      id: 1,
      seek: 200,
      start: 2,
      end: 4.2,
      text: ' And so my fellow Americans,',
      tokens: [],
      temperature: 0,
      avg_logprob: -0.25,
      compression_ratio: compressionRatio(' And so my fellow Americans,'),
      no_speech_prob: 0.01,
    });
    expect(writeVerboseJson(sample, { words: true }).words).toEqual([
      { word: 'Hello', start: 0.5, end: 0.9 },
      { word: 'world.', start: 1, end: 1.6 },
      { word: 'And', start: 2, end: 2.2 },
      { word: 'so', start: 2.3, end: 2.5 },
      { word: 'my', start: 2.6, end: 2.8 },
      { word: 'fellow', start: 2.9, end: 3.4 },
      { word: 'Americans,', start: 3.5, end: 4.2 },
    ]);
    expect(writeVerboseJson(diarized).segments.map((s) => s.speaker)).toEqual(['SPEAKER_00', 'SPEAKER_01']);
    expect(writeVerboseJson(resultOf([], 'de'), { task: 'translate' })).toMatchObject({ task: 'translate', language: 'german', text: '', segments: [] });
  });

  it('names every language whisper knows; unknown codes pass through', () => {
    expect(languageName('yue')).toBe('cantonese');
    expect(languageName('zz')).toBe('zz');
  });

  it('compression ratio is bytes / zlib bytes, high for repetition', () => {
    expect(compressionRatio('')).toBe(0);
    expect(compressionRatio('la '.repeat(200))).toBeGreaterThan(10);
  });
});

describe('text and tsv', () => {
  it('text: one line per segment; parse back gives the segments', () => {
    expect(writeText(sample)).toBe('Hello world.\nAnd so my fellow Americans,\n');
    expect(writeText(resultOf([]))).toBe('');
  });

  it('text: one line per speaker turn with a [SPEAKER_xx] prefix when diarized', () => {
    expect(writeText(diarized)).toBe('[SPEAKER_00] Hi there.\n[SPEAKER_01] Hello!\n[SPEAKER_01] How are you?\n');
  });

  it('tsv: whisper header, integer milliseconds; parse back gives times, text and speakers', () => {
    const text = writeTsv(diarized);
    const [header, ...rows] = text.trimEnd().split('\n');
    expect(header).toBe('start\tend\ttext');
    const parsed = rows.map((row) => row.split('\t'));
    expect(parsed).toEqual([
      ['0', '1000', '[SPEAKER_00] Hi there.'],
      ['1200', '1800', '[SPEAKER_01] Hello!'],
      ['2000', '3000', '[SPEAKER_01] How are you?'],
    ]);
    expect(writeTsv(resultOf([]))).toBe('start\tend\ttext\n');
  });
});

describe('srt and vtt', () => {
  it('one cue per segment by default; parse back gives times and text', () => {
    const srt = parseSrt(writeSrt(sample));
    expect(srt).toEqual([
      { index: 1, start: 0.5, end: 1.6, lines: ['Hello world.'] },
      { index: 2, start: 2, end: 4.2, lines: ['And so my fellow Americans,'] },
    ]);
    const vtt = parseVtt(writeVtt(sample));
    expect(vtt.map(({ start, end, lines }) => ({ start, end, lines }))).toEqual(srt.map(({ start, end, lines }) => ({ start, end, lines })));
  });

  it('wraps at max_line_width between words and splits cues at max_line_count', () => {
    const text = writeSrt(sample, { maxLineWidth: 10, maxLineCount: 1 });
    const cues = parseSrt(text);
    expect(cues.map((c) => c.lines)).toEqual([['Hello'], ['world.'], ['And so my'], ['fellow'], ['Americans,']]);
    expect(cues.map((c) => [c.start, c.end])).toEqual([
      [0.5, 0.9],
      [1, 1.6],
      [2, 2.8],
      [2.9, 3.4],
      [3.5, 4.2],
    ]);
    expect(parseSrt(writeSrt(sample, { maxLineWidth: 10, maxLineCount: 2 })).map((c) => c.lines)).toEqual([
      ['Hello', 'world.'],
      ['And so my', 'fellow'],
      ['Americans,'],
    ]);
  });

  it('max_words_per_line caps words on a line', () => {
    expect(parseVtt(writeVtt(sample, { maxWordsPerLine: 2 })).map((c) => c.lines)).toEqual([['Hello world.'], ['And so', 'my fellow', 'Americans,']]);
  });

  it('a word longer than the width stays whole on its own line (whisper.cpp #3968)', () => {
    const long = resultOf([segment(0, [word('a', 0, 1), word('Donaudampfschifffahrtsgesellschaft', 1, 2), word('b', 2, 3)])]);
    expect(parseSrt(writeSrt(long, { maxLineWidth: 8 }))[0].lines).toEqual(['a', 'Donaudampfschifffahrtsgesellschaft', 'b']);
  });

  it('counts width in code points (unicode), not UTF-16 units', () => {
    const emoji = resultOf([segment(0, [word('😀😀😀', 0, 1), word('日本語', 1, 2), word('ça', 2, 3)])]);
    expect(parseSrt(writeSrt(emoji, { maxLineWidth: 7 }))[0].lines).toEqual(['😀😀😀 日本語', 'ça']);
  });

  it('speaker labels: [SPEAKER_00] prefix in srt, <v SPEAKER_00> in vtt, cues split at speaker changes', () => {
    const srt = parseSrt(writeSrt(diarized));
    expect(srt.map((c) => cueContent(c.lines, 'srt'))).toEqual([
      { speaker: 'SPEAKER_00', words: ['Hi', 'there.'] },
      { speaker: 'SPEAKER_01', words: ['Hello!'] },
      { speaker: 'SPEAKER_01', words: ['How', 'are', 'you?'] },
    ]);
    expect(srt.map((c) => [c.start, c.end])).toEqual([
      [0, 1],
      [1.2, 1.8],
      [2, 3],
    ]);
    const vtt = writeVtt(diarized);
    expect(vtt).toContain('00:00:00.000 --> 00:00:01.000\n<v SPEAKER_00>Hi there.\n');
    expect(parseVtt(vtt).map((c) => cueContent(c.lines, 'vtt').speaker)).toEqual(['SPEAKER_00', 'SPEAKER_01', 'SPEAKER_01']);
    // the label counts toward the width in srt
    for (const cue of parseSrt(writeSrt(diarized, { maxLineWidth: 16, maxLineCount: 1 }))) {
      for (const line of cue.lines) if (line.split(' ').length > 2) expect(line.length).toBeLessThanOrEqual(16);
    }
  });

  it('highlight_words: a plain cue for each gap and one cue per word with <u>word</u>', () => {
    const cues = parseSrt(writeSrt(resultOf([segment(0, [word('Hello', 0.5, 0.9), word('world.', 1, 1.6)])]), { highlightWords: true }));
    expect(cues.map(({ start, end, lines }) => ({ start, end, lines }))).toEqual([
      { start: 0.5, end: 0.9, lines: ['<u>Hello</u> world.'] },
      { start: 0.9, end: 1, lines: ['Hello world.'] },
      { start: 1, end: 1.6, lines: ['Hello <u>world.</u>'] },
    ]);
    const vtt = writeVtt(diarized, { highlightWords: true, maxLineWidth: 42 });
    expect(vtt).toContain('<v SPEAKER_00><u>Hi</u> there.');
  });

  it('escapes markup in vtt and timing arrows in srt', () => {
    const tricky = resultOf([segment(0, [word('a<b', 0, 1), word('&', 1, 2), word('-->', 2, 3)])]);
    expect(writeVtt(tricky)).toContain('a&lt;b &amp; --&gt;');
    expect(writeSrt(tricky)).toContain('a<b & ->');
  });

  it('empty result: no cues', () => {
    const empty = resultOf([]);
    expect(writeSrt(empty)).toBe('');
    expect(writeVtt(empty)).toBe('WEBVTT\n\n');
    expect(parseVtt(writeVtt(empty))).toEqual([]);
    expect(writeSrt(resultOf([{ ...segment(0, []), text: '   ' }]))).toBe('');
  });

  it('words without times are placed within their segment, in order', () => {
    const untimed = resultOf([{ ...segment(0, [word('one', NaN, NaN), word('two', 1, 2), word('three', NaN, NaN)]), start: 0, end: 4 }]);
    const cues = parseSrt(writeSrt(untimed, { maxLineWidth: 3, maxLineCount: 1 }));
    expect(cues.map((c) => c.lines[0])).toEqual(['one', 'two', 'three']);
    expect(cues.map((c) => [c.start, c.end])).toEqual([
      [0, 1],
      [1, 2],
      [2, 4],
    ]);
    // a segment with no words at all: its text, split at spaces
    const textOnly = resultOf([{ ...segment(0, []), start: 0, end: 2, text: ' just text ' }]);
    expect(parseSrt(writeSrt(textOnly, { maxLineWidth: 4, maxLineCount: 1 })).map((c) => [c.lines[0], c.start, c.end])).toEqual([
      ['just', 0, 1],
      ['text', 1, 2],
    ]);
  });
});

describe('renderTranscript', () => {
  it('gives each format its writer, media type and extension', () => {
    for (const format of RESPONSE_FORMATS) {
      const rendered = renderTranscript(sample, format, { maxLineWidth: 20 });
      expect(rendered.contentType).toBe(FORMAT_MEDIA[format].contentType);
      expect(rendered.kind).toBe(format.endsWith('json') ? 'json' : 'text');
    }
    expect(renderTranscript(sample, 'srt').body).toBe(writeSrt(sample));
    expect(FORMAT_MEDIA.srt).toEqual({ contentType: 'application/x-subrip; charset=utf-8', extension: 'srt' });
  });
});

// ---- properties ----

const wordText = fc.oneof(
  fc.stringMatching(/^[A-Za-z'.,!?]{1,12}$/),
  fc.constantFrom('日本語', 'ça', 'naïve', '😀', 'Donaudampfschifffahrtsgesellschaft', '<b>', 'a&b'),
);

const arbitraryResult = fc
  .array(
    fc.record({
      words: fc.array(fc.record({ text: wordText, gap: fc.integer({ min: 0, max: 500 }), length: fc.integer({ min: 0, max: 900 }), timed: fc.boolean(), speaker: fc.constantFrom(undefined, 'SPEAKER_00', 'SPEAKER_01') }), { minLength: 0, maxLength: 12 }),
      gap: fc.integer({ min: 0, max: 2000 }),
    }),
    { maxLength: 6 },
  )
  .map((segments) => {
    let at = 0;
    const built = segments.map((s, id) => {
      at += s.gap / 1000;
      const start = at;
      const words = s.words.map((w) => {
        at += w.gap / 1000;
        const begin = at;
        at += w.length / 1000;
        return { word: w.text, start: w.timed ? begin : NaN, end: w.timed ? at : NaN, score: 1, ...(w.speaker ? { speaker: w.speaker } : {}) };
      });
      return { id, start, end: at, text: ` ${s.words.map((w) => w.text).join(' ')}`, avg_logprob: -0.1, no_speech_prob: 0, words };
    });
    return resultOf(built);
  });

const shaping = fc.record({
  maxLineWidth: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
  maxLineCount: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  maxWordsPerLine: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
});

describe('subtitle properties', () => {
  it('srt and vtt: cues in order, never overlapping, every word once, speakers kept, lines within width unless one word, at most max_line_count lines', () => {
    fc.assert(
      fc.property(arbitraryResult, shaping, (result, shape) => {
        const expectedWords = speakerRuns(result).flatMap((run) => run.words.map((w) => ({ word: w.text, speaker: run.speaker })));
        for (const style of ['srt', 'vtt'] as const) {
          const cues = style === 'srt' ? parseSrt(writeSrt(result, shape)) : parseVtt(writeVtt(result, shape));
          let previousEnd = 0;
          cues.forEach((cue, index) => {
            if (style === 'srt') expect(cue.index).toBe(index + 1);
            expect(cue.start).toBeGreaterThanOrEqual(previousEnd);
            expect(cue.end).toBeGreaterThanOrEqual(cue.start);
            previousEnd = cue.end;
            if (shape.maxLineCount !== undefined && (shape.maxLineWidth !== undefined || shape.maxWordsPerLine !== undefined)) {
              expect(cue.lines.length).toBeLessThanOrEqual(shape.maxLineCount);
            }
            cue.lines.forEach((line, lineIndex) => {
              const shown = style === 'vtt' ? unescapeVtt(line.replace(/^<v [^>]+>/, '')) : line;
              const words = (lineIndex === 0 && style === 'srt' ? shown.replace(/^\[[^\]]+\] /, '') : shown).split(' ');
              if (shape.maxLineWidth !== undefined && words.length > 1) expect([...shown].length).toBeLessThanOrEqual(shape.maxLineWidth);
              if (shape.maxWordsPerLine !== undefined) expect(words.length).toBeLessThanOrEqual(shape.maxWordsPerLine);
            });
          });
          const written = cues.flatMap((cue) => {
            const { speaker, words } = cueContent(cue.lines, style);
            return words.map((w) => ({ word: w, speaker }));
          });
          // srt's "-->" guard aside, every word comes back once, in order, with its speaker
          expect(written).toEqual(expectedWords.map((w) => ({ word: style === 'srt' ? w.word.replace(/-->/g, '->') : w.word, speaker: w.speaker })));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('highlight_words: cues stay ordered and non-overlapping, each highlights at most one word', () => {
    fc.assert(
      fc.property(arbitraryResult, shaping, (result, shape) => {
        const cues = buildCues(result, { ...shape, highlightWords: true });
        let previousEnd = 0;
        for (const cue of cues) {
          expect(cue.start).toBeGreaterThanOrEqual(previousEnd);
          expect(cue.end).toBeGreaterThanOrEqual(cue.start);
          previousEnd = cue.end;
        }
        for (const cue of parseSrt(writeSrt(result, { ...shape, highlightWords: true }))) {
          expect((cue.lines.join('\n').match(/<u>/g) ?? []).length).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 200 },
    );
  });
});
