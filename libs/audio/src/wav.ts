import { ErrorCode, ServiceError } from '@app/contracts';

export const SAMPLE_RATE = 16_000;

interface WavFormat {
  audioFormat: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  dataOffset: number;
  dataBytes: number;
}

/** Parses a RIFF/WAVE header; null when the bytes are not a WAV file at all. */
export function parseWavHeader(bytes: Buffer): WavFormat | null {
  if (bytes.length < 12 || bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') return null;
  let offset = 12;
  let fmt: Omit<WavFormat, 'dataOffset' | 'dataBytes'> | undefined;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && body + 16 <= bytes.length) {
      fmt = {
        audioFormat: bytes.readUInt16LE(body),
        channels: bytes.readUInt16LE(body + 2),
        sampleRate: bytes.readUInt32LE(body + 4),
        bitsPerSample: bytes.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) return null;
      return { ...fmt, dataOffset: body, dataBytes: size };
    }
    offset = body + size + (size % 2);
  }
  return null;
}

/**
 * Decodes 16 kHz mono PCM16/float32 WAV without ffmpeg (the common case for speech tools).
 * Returns null for any other WAV flavour, which then goes through ffmpeg.
 */
export function decodeWavFastPath(bytes: Buffer): Float32Array | null {
  const wav = parseWavHeader(bytes);
  if (!wav || wav.sampleRate !== SAMPLE_RATE || wav.channels !== 1) return null;
  const isPcm16 = wav.audioFormat === 1 && wav.bitsPerSample === 16;
  const isFloat32 = wav.audioFormat === 3 && wav.bitsPerSample === 32;
  if (!isPcm16 && !isFloat32) return null;
  const available = bytes.length - wav.dataOffset;
  // 0xFFFFFFFF (or 0) is what streaming writers put when they don't know the length
  const streamingLength = wav.dataBytes === 0xffffffff || wav.dataBytes === 0;
  if (!streamingLength && wav.dataBytes > available) {
    throw new ServiceError(ErrorCode.InvalidAudio, `WAV file is truncated: header declares ${wav.dataBytes} data bytes, ${available} present`, 'file');
  }
  const dataBytes = streamingLength ? available : wav.dataBytes;
  const bytesPerSample = wav.bitsPerSample / 8;
  const count = Math.floor(dataBytes / bytesPerSample);
  const out = new Float32Array(count);
  if (isPcm16) {
    // a DataView reads little-endian at any offset (a WAV's data may start at an odd byte), and
    // without Buffer.readInt16LE's per-call checks: ~5× faster on an 11 s file
    const view = new DataView(bytes.buffer, bytes.byteOffset + wav.dataOffset, count * 2);
    for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true) / 32768;
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + wav.dataOffset, count * 4);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}
