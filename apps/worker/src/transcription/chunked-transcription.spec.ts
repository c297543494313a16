import { WhisperDecodeResult, WhisperModelHandle } from '@app/whisper';
import { planParallelism, transcribeChunks } from './chunked-transcription';

/** A fake model: one segment per call covering its input, resolving after a delay that varies per call. */
function fakeModel(delays: number[]): WhisperModelHandle & { maxInFlight: number; threadsSeen: number[] } {
  let inFlight = 0;
  let call = 0;
  const model = {
    path: 'fake',
    isMultilingual: true,
    sizeBytes: 0,
    maxInFlight: 0,
    threadsSeen: [] as number[],
    detectLanguage: async () => ({ en: 1 }),
    transcribe: async (pcm: Float32Array, options?: { threads?: number }): Promise<WhisperDecodeResult> => {
      inFlight++;
      model.maxInFlight = Math.max(model.maxInFlight, inFlight);
      model.threadsSeen.push(options?.threads ?? 0);
      await new Promise((r) => setTimeout(r, delays[call++ % delays.length]));
      inFlight--;
      const seconds = pcm.length / 16_000;
      return {
        language: 'en',
        segments: [{ start: 0.5, end: seconds + 5, text: 'x', avgLogprob: 0, noSpeechProb: 0, tokens: [{ id: 1, text: ' x', p: 1, plog: 0, start: 0.5, end: 1 }] }],
      };
    },
    free: async () => undefined,
  };
  return model;
}

describe('planParallelism', () => {
  it('never runs more CPU decoders than cores, and splits the threads', () => {
    expect(planParallelism(16, 10, 'cpu', 2, 4)).toEqual({ concurrency: 2, threadsPerDecoder: 1 });
    expect(planParallelism(1, 10, 'cpu', 8, 4)).toEqual({ concurrency: 1, threadsPerDecoder: 8 });
    expect(planParallelism(4, 3, 'cpu', 8, 4)).toEqual({ concurrency: 3, threadsPerDecoder: 2 });
  });

  it('bounds GPU decoders separately', () => {
    expect(planParallelism(16, 10, 'cuda', 16, 4)).toEqual({ concurrency: 4, threadsPerDecoder: 4 });
  });
});

describe('transcribeChunks', () => {
  const pcm = new Float32Array(16_000 * 100);
  const chunks = [{ start: 0, end: 10 }, { start: 20, end: 45 }, { start: 50, end: 52 }, { start: 60, end: 90 }];

  it('maps segments back onto the original timeline, inside their chunk, in order', async () => {
    const segments = await transcribeChunks(fakeModel([5]), pcm, chunks, { language: 'en', plan: { concurrency: 1, threadsPerDecoder: 2 }, signal: new AbortController().signal, onProgress: () => undefined });
    expect(segments.map((s) => [s.start, s.end])).toEqual([[0.5, 10], [20.5, 45], [50.5, 52], [60.5, 90]]);
    expect(segments[1].tokens[0]).toMatchObject({ start: 20.5, end: 21 });
  });

  it('gives the same result in chunk order whatever the concurrency, using at most that many decoders', async () => {
    const serial = await transcribeChunks(fakeModel([5]), pcm, chunks, { language: 'en', plan: { concurrency: 1, threadsPerDecoder: 2 }, signal: new AbortController().signal, onProgress: () => undefined });
    const model = fakeModel([30, 1, 20, 1]);
    const progress: number[] = [];
    const parallel = await transcribeChunks(model, pcm, chunks, { language: 'en', plan: { concurrency: 2, threadsPerDecoder: 1 }, signal: new AbortController().signal, onProgress: (done) => progress.push(done) });
    expect(parallel).toEqual(serial);
    expect(model.maxInFlight).toBe(2);
    expect(model.threadsSeen.every((t) => t === 1)).toBe(true);
    expect(progress[progress.length - 1]).toBe(67);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
  });
});
