import { readFileSync } from 'node:fs';
import { ErrorCode, JobCancelledError } from '@app/contracts';
import { JFK_MP3 } from '../../../test/support/samples';
import { decodeAudio } from './decode-audio';

/** The decoder's boundary: a cancel ends ffmpeg and rejects with the one cancellation type. */
describe('decodeAudio cancellation', () => {
  const mp3 = readFileSync(JFK_MP3);
  const options = { maxSeconds: 60, timeoutMs: 20_000 };

  it('an already-cancelled job never decodes: JobCancelledError', async () => {
    const error = await decodeAudio(mp3, { ...options, signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobCancelledError);
    expect(error).toMatchObject({ code: ErrorCode.JobCancelled });
  });

  it('a cancel while ffmpeg runs kills it: JobCancelledError', async () => {
    const controller = new AbortController();
    const decoding = decodeAudio(mp3, { ...options, signal: controller.signal }).catch((e: unknown) => e);
    setImmediate(() => controller.abort());
    expect(await decoding).toBeInstanceOf(JobCancelledError);
  });
});
