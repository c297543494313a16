import { readFileSync } from 'node:fs';
import { ErrorCode, ServiceError } from '@app/contracts';
import { JFK_MP3, JFK_WAV } from '../../../test/support/samples';
import { decodeAudio } from './decode-audio';

const options = { maxSeconds: 60, timeoutMs: 20_000 };

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    return error instanceof ServiceError ? error.code : String(error);
  }
}

describe('decodeAudio', () => {
  const wav = readFileSync(JFK_WAV);
  const mp3 = readFileSync(JFK_MP3);

  it('decodes 16 kHz PCM WAV without ffmpeg', async () => {
    const audio = await decodeAudio(wav, options);
    expect(audio.decoder).toBe('wav');
    expect(audio.durationSeconds).toBeCloseTo(11.0, 1);
    expect(audio.pcm.subarray(0, 160000).reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeGreaterThan(0.1);
  });

  it('decodes MP3 through ffmpeg pipes to the same length', async () => {
    const audio = await decodeAudio(mp3, options);
    expect(audio.decoder).toBe('ffmpeg');
    expect(audio.durationSeconds).toBeGreaterThan(10.9);
    expect(audio.durationSeconds).toBeLessThan(11.2);
  });

  it.each([
    ['an empty file', Buffer.alloc(0), ErrorCode.EmptyFile],
    ['a text file', Buffer.from('this is not audio at all\n'.repeat(20)), ErrorCode.UnsupportedMedia],
    ['a truncated mp3', mp3.subarray(0, Math.floor(mp3.length * 0.6)), ErrorCode.InvalidAudio],
    ['a tiny truncated mp3', mp3.subarray(0, 3000), ErrorCode.InvalidAudio],
    ['a truncated wav', wav.subarray(0, 20_000), ErrorCode.InvalidAudio],
  ])('rejects %s with a coded error', async (_name, bytes, code) => {
    expect(await codeOf(decodeAudio(bytes, options))).toBe(code);
  });

  it('enforces the duration cap on both paths', async () => {
    expect(await codeOf(decodeAudio(wav, { ...options, maxSeconds: 5 }))).toBe(ErrorCode.AudioTooLong);
    expect(await codeOf(decodeAudio(mp3, { ...options, maxSeconds: 5 }))).toBe(ErrorCode.AudioTooLong);
  });

  it('stops ffmpeg when cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await codeOf(decodeAudio(mp3, { ...options, signal: controller.signal }))).toBe(ErrorCode.JobCancelled);
  });
});
