import { WhisperDecodeResult, WhisperModelHandle, WhisperSegment } from '@app/whisper';
import { transcribeChunks } from './chunked-transcription';

/** A fake model whose n-th call takes delays[n] ms and answers one segment named after its call. */
function fakeModel(delays: number[], log: string[] = []): WhisperModelHandle {
  let call = 0;
  return {
    path: 'fake',
    isMultilingual: true,
    sizeBytes: 0,
    detectLanguage: async () => ({ en: 1 }),
    transcribe: async (pcm: Float32Array): Promise<WhisperDecodeResult> => {
      const n = call++;
      await new Promise((resolve) => setTimeout(resolve, delays[n]));
      log.push(`decoded ${n}`);
      return { language: 'en', segments: [{ start: 0, end: pcm.length / 16_000, text: `chunk${n}`, avgLogprob: 0, noSpeechProb: 0, tokens: [] }] };
    },
    free: async () => undefined,
  } as unknown as WhisperModelHandle;
}

describe('transcribeChunks streams each chunk\'s segments in transcript order', () => {
  const pcm = new Float32Array(16_000 * 40);
  const chunks = [{ start: 0, end: 10 }, { start: 10, end: 20 }, { start: 20, end: 30 }, { start: 30, end: 40 }];

  it('a chunk that finishes before an earlier one waits for it; each chunk is delivered once, as soon as it can be', async () => {
    const log: string[] = [];
    // two decoders: chunk 0 is slow, 1 and 2 finish before it, 3 long after
    const segments = await transcribeChunks(fakeModel([150, 5, 10, 300], log), pcm, chunks, {
      language: 'en',
      plan: { concurrency: 2, threadsPerDecoder: 1 },
      signal: new AbortController().signal,
      onProgress: () => undefined,
      onChunkDecoded: (decoded: WhisperSegment[]) => log.push(`delivered ${decoded.map((s) => s.text).join()}`),
    });
    expect(log).toEqual([
      'decoded 1', 'decoded 2', 'decoded 0',
      // 1 and 2 were held for 0, then all three go out at once
      'delivered chunk0', 'delivered chunk1', 'delivered chunk2',
      // before the job's last chunk is decoded: streaming, not everything at the end
      'decoded 3', 'delivered chunk3',
    ]);
    expect(segments.map((s) => s.text)).toEqual(['chunk0', 'chunk1', 'chunk2', 'chunk3']);
  });

  it('without a listener it decodes all the same (and ends)', async () => {
    const segments = await transcribeChunks(fakeModel([5, 1, 5, 1]), pcm, chunks, {
      language: 'en',
      plan: { concurrency: 2, threadsPerDecoder: 1 },
      signal: new AbortController().signal,
      onProgress: () => undefined,
    });
    expect(segments.map((s) => s.text)).toEqual(['chunk0', 'chunk1', 'chunk2', 'chunk3']);
  });

  it('one decoder: every chunk as it finishes, times on the original timeline', async () => {
    const delivered: WhisperSegment[][] = [];
    await transcribeChunks(fakeModel([5, 5, 5, 5]), pcm, chunks, {
      language: 'en',
      plan: { concurrency: 1, threadsPerDecoder: 1 },
      signal: new AbortController().signal,
      onProgress: () => undefined,
      onChunkDecoded: (decoded) => delivered.push(decoded),
    });
    expect(delivered.map((d) => [d[0].text, d[0].start, d[0].end])).toEqual([['chunk0', 0, 10], ['chunk1', 10, 20], ['chunk2', 20, 30], ['chunk3', 30, 40]]);
  });
});
