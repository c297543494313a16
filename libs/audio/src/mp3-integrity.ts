/**
 * Detects truncated MP3 uploads. Through a pipe ffmpeg cannot tell a cut-off MP3 from a short one,
 * but encoders (LAME and others) write a Xing/Info frame declaring the stream's total byte count.
 */
function id3v2Length(bytes: Buffer): number {
  if (bytes.length < 10 || bytes.toString('latin1', 0, 3) !== 'ID3') return 0;
  // syncsafe 28-bit size, plus the 10-byte header (and a 10-byte footer when flagged)
  const size = ((bytes[6] & 0x7f) << 21) | ((bytes[7] & 0x7f) << 14) | ((bytes[8] & 0x7f) << 7) | (bytes[9] & 0x7f);
  const footer = bytes[5] & 0x10 ? 10 : 0;
  return 10 + size + footer;
}

export interface Mp3Declared {
  /** bytes of MPEG audio the Xing/Info header declares (from the Xing frame on) */
  declaredBytes: number;
  /** bytes actually present from the Xing frame on */
  presentBytes: number;
}

/** Reads the Xing/Info byte count of an MP3; null when the file has no such header. */
export function readMp3DeclaredLength(bytes: Buffer): Mp3Declared | null {
  const start = id3v2Length(bytes);
  if (start + 4 > bytes.length) return null;
  if (bytes[start] !== 0xff || (bytes[start + 1] & 0xe0) !== 0xe0) return null;
  const versionBits = (bytes[start + 1] >> 3) & 0x03; // 3 = MPEG1, 2 = MPEG2, 0 = MPEG2.5
  const layerBits = (bytes[start + 1] >> 1) & 0x03; // 1 = layer III
  if (layerBits !== 1 || versionBits === 1) return null;
  const mono = ((bytes[start + 3] >> 6) & 0x03) === 3;
  const sideInfo = versionBits === 3 ? (mono ? 17 : 32) : mono ? 9 : 17;
  const tagAt = start + 4 + sideInfo;
  if (tagAt + 16 > bytes.length) return null;
  const tag = bytes.toString('latin1', tagAt, tagAt + 4);
  if (tag !== 'Xing' && tag !== 'Info') return null;
  const flags = bytes.readUInt32BE(tagAt + 4);
  if (!(flags & 0x2)) return null;
  const bytesField = tagAt + 8 + (flags & 0x1 ? 4 : 0);
  if (bytesField + 4 > bytes.length) return null;
  return { declaredBytes: bytes.readUInt32BE(bytesField), presentBytes: bytes.length - start };
}

/** True when the MP3 declares more audio bytes than were uploaded (allowing a small tolerance). */
export function isTruncatedMp3(bytes: Buffer): boolean {
  const declared = readMp3DeclaredLength(bytes);
  if (!declared || declared.declaredBytes === 0) return false;
  // a trailing ID3v1 tag or padding makes files longer, never shorter; 1 % slack for encoder rounding
  return declared.presentBytes < declared.declaredBytes * 0.99;
}
