import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ErrorCode, ServiceError } from '@app/contracts';
import { JFK_MP3, JFK_WAV } from '../../../test/support/samples';
import { wavHeader } from '../../../test/support/wav';
import { handlingFor } from './audio-input';
import { decodeAudio } from './decode-audio';

const options = { maxSeconds: 60, timeoutMs: 20_000 };

/** The bytes in pieces as a store hands them out; `reads` counts the pieces taken. */
function chunked(bytes: Buffer, size: number, counter?: { reads: number }, failAt?: number): AsyncIterable<Buffer> {
  return (async function* () {
    for (let at = 0, n = 0; at < bytes.length; at += size, n++) {
      if (failAt !== undefined && n === failAt) throw new ServiceError(ErrorCode.AudioExpired, 'gone');
      if (counter) counter.reads++;
      yield bytes.subarray(at, at + size);
    }
  })();
}

describe('decodeAudio with a chunked input', () => {
  const wav = readFileSync(JFK_WAV);
  const mp3 = readFileSync(JFK_MP3);
  const flac = execFileSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-i', 'pipe:0', '-f', 'flac', 'pipe:1'], { input: wav });

  it('tells whole-file formats (WAV, MP4, MP3) from streamed ones', () => {
    expect(handlingFor(wav)).toBe('whole');
    expect(handlingFor(mp3)).toBe('whole');
    expect(handlingFor(Buffer.from('\0\0\0\x20ftypisom'))).toBe('whole');
    expect(handlingFor(flac)).toBe('stream');
  });

  it('gives the same samples as the whole buffer: WAV (fast path) and FLAC (streamed into ffmpeg)', async () => {
    const whole = await decodeAudio(wav, options);
    const streamed = await decodeAudio(chunked(wav, 7000), options);
    expect(streamed.decoder).toBe('wav');
    expect(Buffer.from(streamed.pcm.buffer).equals(Buffer.from(whole.pcm.buffer))).toBe(true);
    const fromFlac = await decodeAudio(chunked(flac, 16 * 1024), options);
    expect(fromFlac.decoder).toBe('ffmpeg');
    expect(fromFlac.pcm.length).toBe(whole.pcm.length);
  });

  it('a WAV whose header declares more than MAX_AUDIO_SECONDS fails from its first chunks, the rest never read', async () => {
    // a canonical 44-byte header declaring one hour of 16 kHz mono PCM16
    const header = wavHeader(16_000 * 2 * 3600);
    const body = Buffer.concat([header, Buffer.alloc(4 * 1024 * 1024)]);
    const counter = { reads: 0 };
    const error = await decodeAudio(chunked(body, 32 * 1024, counter), options).catch((e: ServiceError) => e);
    expect((error as ServiceError).code).toBe(ErrorCode.AudioTooLong);
    expect(counter.reads).toBeLessThanOrEqual(3);
  });

  it('a source that fails while ffmpeg decodes fails the decode with its own error (audio_expired), not a decode error', async () => {
    const error = await decodeAudio(chunked(flac, 16 * 1024, undefined, 8), options).catch((e: ServiceError) => e);
    expect((error as ServiceError).code).toBe(ErrorCode.AudioExpired);
  });

  it('an empty source is empty_file', async () => {
    const error = await decodeAudio(chunked(Buffer.alloc(0), 10), options).catch((e: ServiceError) => e);
    expect((error as ServiceError).code).toBe(ErrorCode.EmptyFile);
  });
});
