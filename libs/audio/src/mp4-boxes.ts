/**
 * Reading ISO-BMFF / QuickTime box headers (mp4, m4a, mov, 3gp) from untrusted bytes: every read
 * is bounds-checked and a header that doesn't fit gives null, never an exception.
 */

/** A box located in a buffer: [start, end), its header `headerSize` (8, or 16 with a largesize) long. */
export interface Box {
  type: string;
  start: number;
  headerSize: number;
  end: number;
}

/** Largest value we accept in a 64-bit field: beyond 2^53 no buffer holds it and doubles lose bits. */
const MAX_HIGH_WORD = 2 ** 21;
export const UINT32_LIMIT = 2 ** 32;

/** Reads a big-endian 64-bit unsigned value at `at`, or -1 when it exceeds 2^53. */
export function readUInt64(bytes: Buffer, at: number): number {
  const high = bytes.readUInt32BE(at);
  return high >= MAX_HIGH_WORD ? -1 : high * UINT32_LIMIT + bytes.readUInt32BE(at + 4);
}

/** True when the four bytes at `at` are printable ASCII, as every top-level box code is. */
export function isPrintableCode(bytes: Buffer, at: number): boolean {
  if (at + 4 > bytes.length) return false;
  for (let i = at; i < at + 4; i++) if (bytes[i] < 0x20 || bytes[i] > 0x7e) return false;
  return true;
}

/**
 * The box whose header starts at `at`, which must end by `limit`. Size 1 means a 64-bit largesize
 * follows the type; size 0 means "to the end of the enclosing space" (the file, at top level).
 */
export function readBox(bytes: Buffer, at: number, limit: number): Box | null {
  if (at < 0 || at + 8 > limit || limit > bytes.length) return null;
  let size = bytes.readUInt32BE(at);
  let headerSize = 8;
  if (size === 1) {
    if (at + 16 > limit) return null;
    size = readUInt64(bytes, at + 8);
    headerSize = 16;
  } else if (size === 0) {
    size = limit - at;
  }
  if (size < headerSize || at + size > limit) return null;
  return { type: bytes.toString('latin1', at + 4, at + 8), start: at, headerSize, end: at + size };
}
