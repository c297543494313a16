import { ErrorCode, ServiceError } from '@app/contracts';
import { parseWavHeader } from './wav';

/** A job's audio: whole, or as it comes from its source (the blob store, a URL) a chunk at a time. */
export type AudioInput = Buffer | AsyncIterable<Buffer>;

/** Enough of the start of a file to tell its format and read a WAV header (fmt and data chunks). */
export const HEAD_BYTES = 64 * 1024;

/**
 * Formats whose decode needs the whole file in worker memory (once):
 * - WAV: the fast path converts it without ffmpeg, and a header that declares more than arrived is an error;
 * - MP4/MOV/M4A: a moov box after mdat must be moved before ffmpeg reads through a pipe (no seeking);
 * - MP3: the Xing/Info header's byte count is checked against what arrived (a pipe can't tell truncation).
 * Everything else (Ogg/Opus, FLAC, WebM, AAC...) streams into ffmpeg's stdin as it is read.
 */
export type InputHandling = 'whole' | 'stream';

export function handlingFor(head: Buffer): InputHandling {
  if (head.length >= 12 && head.toString('ascii', 0, 4) === 'RIFF' && head.toString('ascii', 8, 12) === 'WAVE') return 'whole';
  if (head.length >= 8 && head.toString('ascii', 4, 8) === 'ftyp') return 'whole';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'ID3') return 'whole';
  if (head.length >= 2 && head[0] === 0xff && (head[1] & 0xe0) === 0xe0) return 'whole';
  return 'stream';
}

/**
 * A WAV whose header alone says it is longer than the cap: refused from its first chunk, before the
 * rest is read (a 1 GB upload of 9 hours fails at once with audio_too_long, nothing else held).
 */
export function assertWavHeaderWithin(head: Buffer, maxSeconds: number): void {
  const wav = parseWavHeader(head);
  if (!wav || wav.dataBytes === 0 || wav.dataBytes === 0xffffffff) return;
  const bytesPerSecond = wav.sampleRate * wav.channels * (wav.bitsPerSample / 8);
  if (!(bytesPerSecond > 0)) return;
  const seconds = wav.dataBytes / bytesPerSecond;
  if (seconds > maxSeconds) {
    throw new ServiceError(ErrorCode.AudioTooLong, `audio is ${seconds.toFixed(1)} s (WAV header), longer than MAX_AUDIO_SECONDS=${maxSeconds}`, 'file');
  }
}

/** The first HEAD_BYTES (or all, if shorter) of a chunked input, and an iterator over the rest. */
export async function peekHead(source: AsyncIterable<Buffer>): Promise<{ head: Buffer; rest: AsyncIterator<Buffer>; ended: boolean }> {
  const rest = source[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let size = 0;
  while (size < HEAD_BYTES) {
    const next = await rest.next();
    if (next.done) return { head: Buffer.concat(parts, size), rest, ended: true };
    parts.push(next.value);
    size += next.value.length;
  }
  return { head: Buffer.concat(parts, size), rest, ended: false };
}

/** The head, then what the iterator still has. */
export async function* resume(head: Buffer, rest: AsyncIterator<Buffer>, ended: boolean): AsyncIterable<Buffer> {
  if (head.length > 0) yield head;
  if (ended) return;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

export async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of source) {
    parts.push(part);
    size += part.length;
  }
  return Buffer.concat(parts, size);
}
