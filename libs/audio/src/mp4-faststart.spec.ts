import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { JFK_MP3, JFK_WAV } from '../../../test/support/samples';
import { JFK_SECONDS, makeMp4Fixtures, Mp4Fixture, topLevelBoxes } from '../../../test/support/mp4-fixtures';
import { decodeAudio } from './decode-audio';
import { decodeWithFfmpeg } from './ffmpeg-decoder';
import { faststart, faststartSegments, MAX_CHUNK_ENTRIES, relocateMoov } from './mp4-faststart';
import { SAMPLE_RATE } from './wav';

// ---- box builders (ISO/IEC 14496-12 layout, written out by hand) ----

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number) => Buffer.concat([u32(Math.floor(n / 2 ** 32)), u32(n % 2 ** 32)]);
const box = (type: string, ...payload: Buffer[]) => {
  const body = Buffer.concat(payload);
  return Buffer.concat([u32(8 + body.length), Buffer.from(type, 'latin1'), body]);
};
/** size field 1 and a 64-bit largesize */
const largeBox = (type: string, ...payload: Buffer[]) => {
  const body = Buffer.concat(payload);
  return Buffer.concat([u32(1), Buffer.from(type, 'latin1'), u64(16 + body.length), body]);
};
/** size field 0: "extends to the end of the file" */
const openBox = (type: string, ...payload: Buffer[]) => Buffer.concat([u32(0), Buffer.from(type, 'latin1'), ...payload]);
const stco = (offsets: number[]) => box('stco', u32(0), u32(offsets.length), ...offsets.map(u32));
const co64 = (offsets: number[]) => box('co64', u32(0), u32(offsets.length), ...offsets.map(u64));
/** a track whose only chunk table is `table`, with opaque siblings at every level */
const trak = (table: Buffer) =>
  box('trak', box('tkhd', Buffer.alloc(84, 1)),
    box('mdia', box('mdhd', Buffer.alloc(24, 2)), box('hdlr', Buffer.alloc(25, 3)),
      box('minf', box('smhd', Buffer.alloc(8)), box('dinf', box('dref', u32(0), u32(0))),
        box('stbl', box('stsd', u32(0), u32(0)), box('stsz', u32(0), u32(0), u32(0)), table))));
const ftyp = box('ftyp', Buffer.from('M4A \0\0\x02\0isomiso2', 'latin1'));
const FTYP = ftyp.length;
/** media bytes whose every byte says where it was written, so moved data is recognisable */
const media = (length: number, seed: number) => Buffer.from(Array.from({ length }, (_, i) => (seed * 31 + i * 7) & 0xff));

// ---- an independent reader for the results ----

/** Chunk offsets of every stco/co64 in file order, with the table's type. */
function chunkTables(file: Buffer): { type: string; offsets: number[] }[] {
  const found: { type: string; offsets: number[] }[] = [];
  const walk = (from: number, to: number) => {
    for (let at = from; at + 8 <= to; ) {
      let size = file.readUInt32BE(at);
      const type = file.toString('latin1', at + 4, at + 8);
      let header = 8;
      if (size === 1) [size, header] = [Number(file.readBigUInt64BE(at + 8)), 16];
      if (size === 0) size = to - at;
      if (['moov', 'trak', 'mdia', 'minf', 'stbl'].includes(type)) walk(at + header, at + size);
      if (type === 'stco' || type === 'co64') {
        const count = file.readUInt32BE(at + header + 4);
        const offsets = Array.from({ length: count }, (_, i) =>
          type === 'stco' ? file.readUInt32BE(at + header + 8 + i * 4) : Number(file.readBigUInt64BE(at + header + 8 + i * 8)));
        found.push({ type, offsets });
      }
      at += size;
    }
  };
  walk(0, file.length);
  return found;
}

/** Every chunk the old tables point at is found, byte for byte, where the new tables point. */
function expectSameChunkData(before: Buffer, after: Buffer, probe = 8): void {
  const old = chunkTables(before);
  const moved = chunkTables(after);
  expect(moved.map((t) => t.offsets.length)).toEqual(old.map((t) => t.offsets.length));
  old.forEach((table, t) =>
    table.offsets.forEach((offset, i) => {
      const next = moved[t].offsets[i];
      expect(after.subarray(next, next + probe)).toEqual(before.subarray(offset, offset + probe));
    }),
  );
}

describe('faststart: hand-built box trees', () => {
  it('moves moov in front of mdat and shifts every stco offset by moov’s size', () => {
    const free = box('free');
    const mdat = box('mdat', media(100, 1));
    const chunks = [FTYP + free.length + 8, FTYP + free.length + 58];
    const moov = box('moov', box('mvhd', Buffer.alloc(100)), trak(stco(chunks)));
    const file = Buffer.concat([ftyp, free, mdat, moov]);

    const out = faststart(file);
    expect(out.length).toBe(file.length);
    expect(topLevelBoxes(out)).toEqual(['ftyp', 'free', 'moov', 'mdat']);
    expect(chunkTables(out)).toEqual([{ type: 'stco', offsets: chunks.map((o) => o + moov.length) }]);
    // mdat travels byte for byte, right after moov
    expect(out.subarray(FTYP + free.length + moov.length)).toEqual(mdat);
    expectSameChunkData(file, out);
  });

  it('handles stco and co64 tracks, a 64-bit mdat header and a moov sized 0 (to end of file)', () => {
    const mdat = largeBox('mdat', media(300, 2));
    const dataAt = FTYP + 16;
    const moovBody = [box('mvhd', Buffer.alloc(100)), trak(stco([dataAt, dataAt + 100])), trak(co64([dataAt + 200, dataAt + 250]))];
    const moov = openBox('moov', ...moovBody);
    const file = Buffer.concat([ftyp, mdat, moov]);

    const out = faststart(file);
    expect(out.length).toBe(file.length);
    expect(topLevelBoxes(out)).toEqual(['ftyp', 'moov', 'mdat']);
    // moov now has an explicit size: it is no longer the last box
    expect(out.readUInt32BE(FTYP)).toBe(moov.length);
    const shift = moov.length;
    expect(chunkTables(out)).toEqual([
      { type: 'stco', offsets: [dataAt + shift, dataAt + 100 + shift] },
      { type: 'co64', offsets: [dataAt + 200 + shift, dataAt + 250 + shift] },
    ]);
    expect(out.subarray(FTYP + moov.length)).toEqual(mdat);
    expectSameChunkData(file, out);
  });

  it('shifts only what moved: data between mdat and moov moves, data after moov stays', () => {
    const mdat1 = box('mdat', media(64, 3));
    const skip = box('skip', Buffer.alloc(12));
    const moovPlaceholder = (offsets: number[]) => box('moov', trak(stco(offsets)));
    const mdat1At = FTYP;
    const moovAt = FTYP + mdat1.length + skip.length;
    const moovSize = moovPlaceholder([0, 0]).length;
    const mdat2 = box('mdat', media(40, 4));
    const chunks = [mdat1At + 8, moovAt + moovSize + 8];
    const moov = moovPlaceholder(chunks);
    const file = Buffer.concat([ftyp, mdat1, skip, moov, mdat2]);

    const out = faststart(file);
    expect(topLevelBoxes(out)).toEqual(['ftyp', 'moov', 'mdat', 'skip', 'mdat']);
    expect(chunkTables(out)[0].offsets).toEqual([chunks[0] + moovSize, chunks[1]]);
    expectSameChunkData(file, out);
  });

  it('keeps a QuickTime container’s 4-byte terminator and 64-bit headers inside moov', () => {
    const mdat = box('mdat', media(50, 5));
    const table = stco([FTYP + 8]);
    // stbl with a 16-byte header and trailing zero terminator
    const stbl = largeBox('stbl', box('stsd', u32(0), u32(0)), table, u32(0));
    const moov = box('moov', box('trak', box('mdia', box('minf', stbl))));
    const file = Buffer.concat([ftyp, mdat, moov]);
    const out = faststart(file);
    expect(out.subarray(FTYP, FTYP + moov.length).equals(moov)).toBe(false);
    expect(chunkTables(out)).toEqual([{ type: 'stco', offsets: [FTYP + 8 + moov.length] }]);
    // everything but the 4-byte offset is unchanged
    const movedMoov = out.subarray(FTYP, FTYP + moov.length);
    let differing = 0;
    for (let i = 0; i < moov.length; i++) if (movedMoov[i] !== moov[i]) differing++;
    expect(differing).toBeLessThanOrEqual(4);
    expectSameChunkData(file, out);
  });

  it('returns pieces that view the upload instead of copying the media data', () => {
    const mdat = box('mdat', media(1000, 6));
    const moov = box('moov', trak(stco([FTYP + 8])));
    const file = Buffer.concat([ftyp, mdat, moov]);
    const pieces = faststartSegments(file) as Buffer[];
    expect(pieces.map((p) => p.length)).toEqual([FTYP, moov.length, mdat.length]);
    expect(pieces[0].buffer).toBe(file.buffer);
    expect(pieces[2].buffer).toBe(file.buffer);
    expect(Buffer.concat(pieces)).toEqual(faststart(file));
  });
});

describe('faststart: stco offsets past 2^32 become co64', () => {
  // a 5 GB layout can't be held in a test, so the moov is relocated with a described layout
  const GB4 = 2 ** 32;

  it('widens exactly the tables that overflow, and the moov grows by 4 bytes per entry', () => {
    const sizeOf = (tables: Buffer[]) => box('moov', ...tables.map(trak)).length;
    const size = sizeOf([stco([0, 0]), stco([0, 0]), co64([0])]);
    const insertAt = 40;
    const moovStart = GB4 + 1000;
    // A overflows with the plain shift; B only once A's widening has grown moov (by 2 × 4 bytes)
    const a = [100, GB4 - size];
    const b = [GB4 - size - 4, 200];
    // C holds data after moov, which moves only by the growth
    const c = [moovStart + size + 10];
    const moov = box('moov', trak(stco(a)), trak(stco(b)), trak(co64(c)));
    expect(moov.length).toBe(size);

    const relocated = relocateMoov(moov, { insertAt, moovStart, fileLength: moovStart + size + 100 }) as Buffer;
    const grown = size + 4 * a.length + 4 * b.length;
    expect(relocated.length).toBe(grown);
    expect(relocated.readUInt32BE(0)).toBe(grown);
    expect(chunkTables(relocated)).toEqual([
      { type: 'co64', offsets: [100 + grown, GB4 - size + grown] },
      { type: 'co64', offsets: [GB4 - size - 4 + grown, 200 + grown] },
      { type: 'co64', offsets: [moovStart + size + 10 + (grown - size)] },
    ]);
  });

  it('leaves a table alone when its offsets stay under 2^32', () => {
    const moov = box('moov', trak(stco([GB4 - 1000])));
    const relocated = relocateMoov(moov, { insertAt: 0, moovStart: GB4 - 500, fileLength: GB4 - 500 + moov.length }) as Buffer;
    expect(chunkTables(relocated)).toEqual([{ type: 'stco', offsets: [GB4 - 1000 + moov.length] }]);
  });

  it('widens only for data that moves: an offset below the insertion point stays as it is', () => {
    const layout = { insertAt: 20, moovStart: GB4 + 50, fileLength: GB4 + 500 };
    const kept = relocateMoov(box('moov', trak(stco([10]))), layout) as Buffer;
    expect(chunkTables(kept)).toEqual([{ type: 'stco', offsets: [10] }]);
    const moving = box('moov', trak(stco([10, GB4 - 1])));
    const widened = relocateMoov(moving, layout) as Buffer;
    expect(chunkTables(widened)).toEqual([{ type: 'co64', offsets: [10, GB4 - 1 + moving.length + 8] }]);
  });
});

describe('faststart: anything else is passed on unchanged', () => {
  const mdat = box('mdat', media(64, 7));
  const good = (moovBody: Buffer[]) => Buffer.concat([ftyp, mdat, box('moov', ...moovBody)]);

  it.each([
    ['already faststart', Buffer.concat([ftyp, box('moov', trak(stco([FTYP + 100]))), mdat])],
    ['no moov', Buffer.concat([ftyp, mdat])],
    ['two moovs', Buffer.concat([ftyp, mdat, box('moov', trak(stco([FTYP + 8]))), box('moov', trak(stco([FTYP + 8])))])],
    ['fragmented (moof)', Buffer.concat([ftyp, mdat, box('moov', trak(stco([FTYP + 8]))), box('moof', Buffer.alloc(8))])],
    ['fragmented (mvex)', good([box('mvex', Buffer.alloc(8)), trak(stco([FTYP + 8]))])],
    ['compressed moov (cmov)', good([box('cmov', Buffer.alloc(20))])],
    ['encrypted sample info (saio)', good([box('trak', box('mdia', box('minf', box('stbl', stco([FTYP + 8]), box('saio', Buffer.alloc(12))))))])],
    ['no chunk table', good([box('mvhd', Buffer.alloc(100))])],
    ['stco count beyond its box', good([trak(box('stco', u32(0), u32(1000), u32(FTYP + 8)))])],
    ['co64 offset beyond 2^53', good([trak(box('co64', u32(0), u32(1), u32(0xffffffff), u32(0)))])],
    ['an offset into moov', good([trak(stco([FTYP + mdat.length + 4]))])],
    ['an offset past the end', good([trak(stco([1_000_000]))])],
    ['a child box overrunning its parent', Buffer.concat([ftyp, mdat, Buffer.concat([u32(40), Buffer.from('moov'), u32(100), Buffer.from('trak'), Buffer.alloc(24)])])],
    ['a truncated last box', Buffer.concat([ftyp, mdat, box('moov', trak(stco([FTYP + 8])))]).subarray(0, -3)],
    ['a box smaller than its header', Buffer.concat([ftyp, u32(4), Buffer.from('mdat'), box('moov', trak(stco([FTYP + 8])))])],
    ['a non-printable box type', Buffer.concat([ftyp, box('md\x01t', media(8, 1)), mdat, box('moov', trak(stco([FTYP + 8])))])],
    ['an mdat sized 0 (swallows moov)', Buffer.concat([ftyp, openBox('mdat', media(8, 1)), box('moov', trak(stco([FTYP + 8])))])],
    ['a text file', Buffer.from('this is not audio at all\n'.repeat(20))],
    ['WAV', readFileSync(JFK_WAV)],
    ['MP3', readFileSync(JFK_MP3)],
    ['nothing', Buffer.alloc(0)],
  ])('%s', (_name, file) => {
    expect(faststartSegments(file)).toBeNull();
    expect(faststart(file)).toBe(file);
  });

  it('gives up quickly on box floods (many tiny boxes) instead of walking them all', () => {
    const flood = (count: number) => Buffer.concat(Array.from({ length: count }, () => box('free')));
    const topFlood = Buffer.concat([ftyp, flood(5000), mdat, box('moov', trak(stco([FTYP + 5000 * 8 + 8])))]);
    const moovFlood = good([box('trak', box('mdia', box('minf', box('stbl', flood(120_000), stco([FTYP + 8])))))]);
    const started = performance.now();
    expect(faststart(topFlood)).toBe(topFlood);
    expect(faststart(moovFlood)).toBe(moovFlood);
    // while a file just under both limits is still handled
    const fewer = Buffer.concat([ftyp, flood(4000), mdat, box('moov', trak(stco([FTYP + 4000 * 8 + 8])))]);
    expect(topLevelBoxes(faststart(fewer)).slice(-2)).toEqual(['moov', 'mdat']);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('leaves more chunk entries than MAX_CHUNK_ENTRIES (16 M) alone: bounded work on the event loop', () => {
    expect(MAX_CHUNK_ENTRIES).toBe(16_000_000);
    // two tables that only together pass the limit
    const moov = box('moov', trak(stco([FTYP + 8, FTYP + 9])), trak(stco([FTYP + 10, FTYP + 11, FTYP + 12])));
    const layout = { insertAt: FTYP, moovStart: FTYP + 100, fileLength: FTYP + 100 + moov.length };
    expect(relocateMoov(moov, layout, 4)).toBeNull();
    expect(relocateMoov(moov, layout, 5)).not.toBeNull();
  });

  it('never throws on random bytes, and returns non-MP4 input as the same Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (raw) => {
        const bytes = Buffer.from(raw);
        expect(faststart(bytes)).toBe(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on random boxes and mutated box trees', () => {
    const anyBox: fc.Arbitrary<Buffer> = fc.letrec<{ node: Buffer }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.tuple(fc.constantFrom('stco', 'co64', 'mdat', 'free', 'udta'), fc.uint8Array({ maxLength: 40 })).map(([t, p]) => box(t, Buffer.from(p))),
        fc.tuple(fc.constantFrom('moov', 'trak', 'mdia', 'minf', 'stbl'), fc.array(tie('node'), { maxLength: 4 })).map(([t, kids]) => box(t, ...kids)),
        fc.tuple(fc.array(fc.nat(400), { maxLength: 6 }), fc.boolean()).map(([offsets, wide]) => (wide ? co64(offsets) : stco(offsets))),
      ),
    })).node;
    const file = fc.tuple(fc.array(anyBox, { minLength: 1, maxLength: 5 }), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), fc.nat());
    fc.assert(
      fc.property(file, ([boxes, flips, cut]) => {
        const bytes = Buffer.concat([ftyp, ...boxes]);
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        const input = bytes.subarray(0, bytes.length - (cut % 3 === 0 ? cut % 17 : 0));
        const out = faststart(input);
        // reordered or not, every byte is still there (no widening at these sizes)
        expect(out.length).toBe(input.length);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('faststart: files made by ffmpeg with its defaults (moov after mdat)', () => {
  let fixtures: Mp4Fixture[];
  const options = { maxSeconds: 60, timeoutMs: 30_000 };

  beforeAll(() => {
    fixtures = makeMp4Fixtures();
  });

  it('the fixtures really have moov at the end, and a bare pipe cannot decode them', async () => {
    for (const fixture of fixtures) {
      const boxes = topLevelBoxes(fixture.moovAtEnd);
      expect(boxes.indexOf('moov')).toBeGreaterThan(boxes.indexOf('mdat'));
      await expect(decodeWithFfmpeg(fixture.moovAtEnd, options)).rejects.toMatchObject({ code: 'invalid_audio' });
    }
  });

  it('moves moov to the front with every chunk found where its table points', () => {
    for (const fixture of fixtures) {
      const out = faststart(fixture.moovAtEnd);
      const boxes = topLevelBoxes(out);
      expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
      expect(out.length).toBe(fixture.moovAtEnd.length);
      expectSameChunkData(fixture.moovAtEnd, out, 32);
      // and ffmpeg's own faststart agrees on the chunk contents
      expectSameChunkData(fixture.faststart, out, 32);
      expect(faststart(out)).toBe(out);
      expect(faststart(fixture.faststart)).toBe(fixture.faststart);
    }
  });

  it('never throws on truncated or corrupted real files', () => {
    fc.assert(
      fc.property(fc.nat(fixtures.length - 1), fc.double({ min: 0, max: 1, noNaN: true }), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 }), (which, keep, flips) => {
        const file = Buffer.from(fixtures[which].moovAtEnd);
        // flips land in the last 4 KB, where moov and its tables are
        for (const [at, value] of flips) file[file.length - 1 - (at % 4096)] = value;
        const input = file.subarray(0, Math.round(file.length * keep));
        const out = faststart(input);
        expect(out.length).toBe(input.length);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes through the real pipeline to the same audio as ffmpeg’s +faststart twin', async () => {
    for (const fixture of fixtures) {
      const [moved, reference] = await Promise.all([decodeAudio(fixture.moovAtEnd, options), decodeAudio(fixture.faststart, options)]);
      // same samples within one AAC frame (1024 samples at 16 kHz), and the same waveform
      expect(Math.abs(moved.pcm.length - reference.pcm.length)).toBeLessThanOrEqual(1024);
      expect(Math.abs(moved.durationSeconds - JFK_SECONDS)).toBeLessThan(0.1);
      expect(correlation(moved.pcm, reference.pcm)).toBeGreaterThan(0.999);
      expect(moved.pcm.length / SAMPLE_RATE).toBe(moved.durationSeconds);
    }
  });
});

function correlation(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}
