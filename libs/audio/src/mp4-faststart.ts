/**
 * "Faststart" for MP4/M4A/MOV/3GP uploads, in memory.
 *
 * Most phone voice memos and camera recordings write their index (`moov`) after the media data
 * (`mdat`). ffmpeg's mov demuxer then has to seek back, which a pipe can't do, so such files fail
 * as "partial file". Audio never goes to disk here, so instead of handing ffmpeg a seekable file we
 * reorder the boxes: `moov` is moved in front of the first `mdat` and every chunk offset in its
 * `stco`/`co64` tables is shifted by the distance the data moved (qt-faststart's job, without files).
 *
 * Anything that is not plainly such a file (not ISO-BMFF, already faststart, fragmented, compressed
 * moov, encrypted sample info, malformed or truncated) is left alone: ffmpeg then says what it thinks.
 */
import { Box, isPrintableCode, readBox, readUInt64, UINT32_LIMIT } from './mp4-boxes';

/** A chunk offset table inside moov; its entries are read from the upload when needed. */
interface ChunkTable {
  box: Box;
  /** co64 (8-byte entries) rather than stco (4-byte entries) */
  wide: boolean;
  count: number;
  entriesAt: number;
  /** set when its shifted offsets pass 2^32: written as co64 */
  widen: boolean;
}

/** moov's box tree, parsed only along the path that can hold chunk tables. */
interface MoovNode {
  box: Box;
  /** present for the containers we descend into; everything else is copied verbatim */
  children?: MoovNode[];
  /** bytes after the last child too short to be a box (QuickTime's 4-byte terminator), kept */
  tailStart?: number;
  table?: ChunkTable;
}

/** Containers between moov and stco/co64: moov → trak → mdia → minf → stbl. */
const CHUNK_PATH = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl']);
/** Boxes whose presence means offsets we don't rewrite, or a layout we must not touch. */
const GIVE_UP_INSIDE_MOOV = new Set([
  'cmov', // compressed moov: its tables are zlib data
  'mvex', // fragmented: samples live in moof/mdat pairs
  'saio', // sample auxiliary info (encryption) also holds absolute offsets
]);
/** Real files have a handful of top-level boxes; fragmented ones thousands (and we skip those). */
const MAX_TOP_LEVEL_BOXES = 4096;
/** Real moovs have tens of boxes per track on the chunk path; bounds work on hostile input. */
const MAX_MOOV_BOXES = 100_000;
/**
 * Chunk entries we are willing to rewrite (~1 s of work on 2 slow cores, on the worker's event
 * loop). Real files stay far below: 10 h of AAC at one frame per chunk is 1.7 M.
 */
export const MAX_CHUNK_ENTRIES = 16_000_000;
/** Deeper than any real moov path; bounds recursion on hostile input. */
const MAX_DEPTH = 8;

interface TopLevel {
  firstMdatAt: number;
  moov: Box;
}

/** Finds the first mdat and the only moov; null unless the top level tiles the file cleanly. */
function scanTopLevel(bytes: Buffer): TopLevel | null {
  let firstMdatAt = -1;
  let moov: Box | null = null;
  let at = 0;
  for (let count = 0; at < bytes.length; count++) {
    const box = count < MAX_TOP_LEVEL_BOXES && isPrintableCode(bytes, at + 4) ? readBox(bytes, at, bytes.length) : null;
    if (!box || box.type === 'moof' || (box.type === 'moov' && moov)) return null;
    if (box.type === 'mdat' && firstMdatAt < 0) firstMdatAt = box.start;
    if (box.type === 'moov') moov = box;
    at = box.end;
  }
  return moov && firstMdatAt >= 0 ? { firstMdatAt, moov } : null;
}

function readChunkTable(bytes: Buffer, box: Box): ChunkTable | null {
  const wide = box.type === 'co64';
  const body = box.start + box.headerSize;
  if (body + 8 > box.end) return null;
  const count = bytes.readUInt32BE(body + 4);
  if (count * (wide ? 8 : 4) > box.end - body - 8) return null;
  return { box, wide, count, entriesAt: body + 8, widen: false };
}

function offsetAt(bytes: Buffer, table: ChunkTable, i: number): number {
  return table.wide ? readUInt64(bytes, table.entriesAt + i * 8) : bytes.readUInt32BE(table.entriesAt + i * 4);
}

/** Parses moov along CHUNK_PATH, collecting chunk tables; null when we must not touch it. */
function readMoovNode(bytes: Buffer, box: Box, tables: ChunkTable[], budget: { boxes: number }, depth: number): MoovNode | null {
  if (GIVE_UP_INSIDE_MOOV.has(box.type) || --budget.boxes < 0) return null;
  if (box.type === 'stco' || box.type === 'co64') {
    const table = readChunkTable(bytes, box);
    if (!table) return null;
    tables.push(table);
    return { box, table };
  }
  if (!CHUNK_PATH.has(box.type)) return { box };
  if (depth > MAX_DEPTH) return null;
  const children: MoovNode[] = [];
  let at = box.start + box.headerSize;
  while (at + 8 <= box.end) {
    const child = readBox(bytes, at, box.end);
    const node = child && readMoovNode(bytes, child, tables, budget, depth + 1);
    if (!child || !node) return null;
    children.push(node);
    at = child.end;
  }
  return { box, children, tailStart: at };
}

/** Size of a node once the tables marked `widen` have become co64 (4 more bytes per entry). */
function nodeSize(node: MoovNode): number {
  const { box, table, children } = node;
  if (table) return box.end - box.start + (table.widen ? table.count * 4 : 0);
  if (!children) return box.end - box.start;
  return children.reduce((size, child) => size + nodeSize(child), box.headerSize + box.end - (node.tailStart ?? box.end));
}

/** Writes a box header in the same form (8 or 16 bytes) with a new size; false when it won't fit. */
function writeHeader(out: Buffer, at: number, box: Box, type: string, size: number): boolean {
  out.write(type, at + 4, 4, 'latin1');
  if (box.headerSize === 16) {
    out.writeUInt32BE(1, at);
    out.writeUInt32BE(Math.floor(size / UINT32_LIMIT), at + 8);
    out.writeUInt32BE(size % UINT32_LIMIT, at + 12);
    return true;
  }
  if (size >= UINT32_LIMIT) return false;
  out.writeUInt32BE(size, at); // also replaces a size 0 ("to end of file"): moov is no longer last
  return true;
}

/** Serialises a node at `at` with shifted offsets; returns where it ends, or -1 when it can't. */
function writeNode(bytes: Buffer, node: MoovNode, out: Buffer, at: number, shift: (offset: number) => number): number {
  const { box, table, children } = node;
  const size = nodeSize(node);
  if (table) {
    const wide = table.wide || table.widen;
    if (!writeHeader(out, at, box, wide ? 'co64' : 'stco', size)) return -1;
    bytes.copy(out, at + box.headerSize, box.start + box.headerSize, table.entriesAt); // version, flags, count
    const entriesAt = at + box.headerSize + 8;
    for (let i = 0; i < table.count; i++) {
      const moved = shift(offsetAt(bytes, table, i));
      if (wide) {
        out.writeUInt32BE(Math.floor(moved / UINT32_LIMIT), entriesAt + i * 8);
        out.writeUInt32BE(moved % UINT32_LIMIT, entriesAt + i * 8 + 4);
      } else {
        out.writeUInt32BE(moved, entriesAt + i * 4);
      }
    }
    // bytes after the declared entries (padding some writers leave) travel unchanged
    bytes.copy(out, entriesAt + table.count * (wide ? 8 : 4), table.entriesAt + table.count * (table.wide ? 8 : 4), box.end);
    return at + size;
  }
  if (!children) {
    bytes.copy(out, at, box.start, box.end);
    return at + size;
  }
  if (!writeHeader(out, at, box, box.type, size)) return -1;
  let cursor = at + box.headerSize;
  for (const child of children) {
    cursor = writeNode(bytes, child, out, cursor, shift);
    if (cursor < 0) return -1;
  }
  const tailStart = node.tailStart ?? box.end;
  bytes.copy(out, cursor, tailStart, box.end);
  return cursor + box.end - tailStart;
}

/** Where moov sits in the upload and where it is to go (absolute file positions). */
export interface MoovLayout {
  /** where moov is to be inserted: the start of the first mdat */
  insertAt: number;
  /** where moov is now (at or after insertAt) */
  moovStart: number;
  fileLength: number;
}

/**
 * `moov` (exactly one box, as found in the upload) rewritten for its new place: every chunk offset
 * shifted by what moved, stco tables widened to co64 where a shifted offset passes 2^32 (which
 * grows moov, so shifts again). Null when moov holds something we must not or cannot rewrite.
 */
export function relocateMoov(moov: Buffer, layout: MoovLayout, maxChunkEntries = MAX_CHUNK_ENTRIES): Buffer | null {
  const box = readBox(moov, 0, moov.length);
  if (!box || box.type !== 'moov' || box.end !== moov.length) return null;
  const tables: ChunkTable[] = [];
  const root = readMoovNode(moov, box, tables, { boxes: MAX_MOOV_BOXES }, 0);
  if (!root || tables.length === 0) return null;
  if (tables.reduce((sum, table) => sum + table.count, 0) > maxChunkEntries) return null;
  const { insertAt, moovStart, fileLength } = layout;
  const oldSize = moov.length;
  const moovEnd = moovStart + oldSize;
  if (insertAt > moovStart || moovEnd > fileLength) return null;

  // Data before insertAt stays, data between insertAt and moov moves up by the new moov's size,
  // data after moov only by what moov grew. For each stco, the smallest new moov size at which one
  // of its offsets passes 2^32 is where it must become co64.
  const widenAt = new Map<ChunkTable, number>();
  for (const table of tables) {
    let threshold = Infinity;
    for (let i = 0; i < table.count; i++) {
      const offset = offsetAt(moov, table, i);
      // unreadable (> 2^53), inside moov itself or past the end: not a file we understand
      if (offset < 0 || (offset >= moovStart && offset < moovEnd) || offset > fileLength) return null;
      if (offset >= moovEnd) threshold = Math.min(threshold, UINT32_LIMIT - offset + oldSize);
      else if (offset >= insertAt) threshold = Math.min(threshold, UINT32_LIMIT - offset);
    }
    if (!table.wide) widenAt.set(table, threshold);
  }
  // widening grows moov, which may push further tables over: take them in threshold order
  let newSize = oldSize;
  for (const [table, threshold] of [...widenAt].sort((a, b) => a[1] - b[1])) {
    if (newSize < threshold) break;
    table.widen = true;
    newSize += table.count * 4;
  }

  const shift = (offset: number) => (offset < insertAt ? offset : offset < moovStart ? offset + newSize : offset + newSize - oldSize);
  const out = Buffer.alloc(newSize);
  return nodeSize(root) === newSize && writeNode(moov, root, out, 0, shift) === newSize ? out : null;
}

/**
 * The upload in faststart order as a list of pieces (views of `bytes` plus the rewritten moov), or
 * null when the file is to be passed on unchanged. Only moov is copied: the pieces are written to
 * ffmpeg's pipe one after another, so the media data is never duplicated.
 */
export function faststartSegments(bytes: Buffer): Buffer[] | null {
  // cheap rejection first: an ISO-BMFF file starts with a box whose code is printable ASCII
  if (bytes.length < 16 || !isPrintableCode(bytes, 4)) return null;
  const top = scanTopLevel(bytes);
  if (!top || top.moov.start < top.firstMdatAt) return null; // not MP4-like, or already faststart
  const { moov, firstMdatAt: insertAt } = top;
  const newMoov = relocateMoov(bytes.subarray(moov.start, moov.end), { insertAt, moovStart: moov.start, fileLength: bytes.length });
  if (!newMoov) return null;
  return [bytes.subarray(0, insertAt), newMoov, bytes.subarray(insertAt, moov.start), bytes.subarray(moov.end)].filter((piece) => piece.length > 0);
}

/** The upload with moov in front of mdat as one Buffer; the same Buffer when nothing is to change. */
export function faststart(bytes: Buffer): Buffer {
  const segments = faststartSegments(bytes);
  return segments ? Buffer.concat(segments) : bytes;
}
