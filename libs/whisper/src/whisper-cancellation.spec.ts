/**
 * whisper.cpp's boundary: an aborted decode rejects with the one cancellation type
 * (JobCancelledError, job_cancelled).
 */
import * as path from 'path';
import { ErrorCode, JobCancelledError } from '@app/contracts';
import { loadWhisperModel } from './whisper-model';
import { WhisperModelHandle } from './whisper-types';

const MICRO = path.resolve(__dirname, '..', '..', '..', 'models', 'ggml-synthetic-micro.bin');

jest.setTimeout(60_000);

describe('whisper abort → JobCancelledError', () => {
  let model: WhisperModelHandle;

  beforeAll(async () => {
    model = await loadWhisperModel(MICRO, { useGpu: false });
  });

  afterAll(() => model?.free());

  // 20 s of a tone: enough work that an abort at the first progress lands mid-decode
  const pcm = Float32Array.from({ length: 16_000 * 20 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16_000));

  it('an aborted signal rejects before decoding', async () => {
    const error = await model.transcribe(pcm, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobCancelledError);
    expect(error).toMatchObject({ code: ErrorCode.JobCancelled });
  });

  it('an abort mid-decode rejects with JobCancelledError', async () => {
    const controller = new AbortController();
    const error = await model
      .transcribe(pcm, { threads: 1, signal: controller.signal, onProgress: () => controller.abort() })
      .then(() => 'finished', (e: unknown) => e);
    if (error === 'finished') return console.warn('the decode finished before its first progress report: nothing to abort');
    expect(error).toBeInstanceOf(JobCancelledError);
  });
});
