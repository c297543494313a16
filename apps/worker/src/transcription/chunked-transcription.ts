import { SAMPLE_RATE } from '@app/audio';
import { Device } from '@app/contracts';
import { SpeechChunk } from '@app/vad';
import { WhisperModelHandle, WhisperSegment, WhisperUsedParams } from '@app/whisper';
import type { WhisperDecoding } from './decoding-settings';


export interface ParallelismPlan {
  /** chunks decoded at once, each on its own whisper_state sharing the loaded model */
  concurrency: number;
  /** whisper.cpp threads per decoder */
  threadsPerDecoder: number;
}

/**
 * How batch_size turns into parallelism. CPU: never more decoders than cores (extra decoders only
 * fight over the same cores), threads split evenly between them. GPU: up to `gpuDecoders` states at
 * once (each costs its KV cache and compute buffers in GPU memory), CPU threads split likewise.
 */
export function planParallelism(batchSize: number, chunks: number, device: Device, cores: number, gpuDecoders: number): ParallelismPlan {
  const ceiling = device === 'cuda' ? gpuDecoders : cores;
  const concurrency = Math.max(1, Math.min(batchSize, chunks, ceiling));
  return { concurrency, threadsPerDecoder: Math.max(1, Math.floor(cores / concurrency)) };
}

export interface ChunkedTranscriptionOptions {
  language: string;
  /** the job's decoding options (initial prompt, task, temperatures, beam, …), the same for every chunk */
  decoding?: WhisperDecoding;
  /** the whisper_full_params each chunk's decode was given, as whisper.cpp reported them */
  onParams?(params: WhisperUsedParams): void;
  plan: ParallelismPlan;
  signal: AbortSignal;
  /** seconds of speech decoded so far, of the total */
  onProgress(doneSeconds: number, totalSeconds: number): void;
  /** each chunk's segments (original timeline) as soon as it and every chunk before it are decoded: in transcript order */
  onChunkDecoded?(segments: WhisperSegment[]): void;
}

/**
 * Decodes every chunk (up to plan.concurrency at once) and returns whisper's segments on the
 * original timeline, in chunk order — the same output whatever the concurrency.
 */
export async function transcribeChunks(
  model: WhisperModelHandle,
  pcm: Float32Array,
  chunks: readonly SpeechChunk[],
  options: ChunkedTranscriptionOptions,
): Promise<WhisperSegment[]> {
  const results: WhisperSegment[][] = new Array(chunks.length);
  const total = chunks.reduce((sum, chunk) => sum + (chunk.end - chunk.start), 0);
  let done = 0;
  let next = 0;
  let delivered = 0;
  const decoder = async (): Promise<void> => {
    while (next < chunks.length) {
      const index = next++;
      const chunk = chunks[index];
      const from = Math.max(0, Math.round(chunk.start * SAMPLE_RATE));
      const to = Math.min(pcm.length, Math.round(chunk.end * SAMPLE_RATE));
      const decoded = await model.transcribe(pcm.subarray(from, to), {
        ...options.decoding,
        language: options.language,
        threads: options.plan.threadsPerDecoder,
        signal: options.signal,
      });
      if (decoded.params) options.onParams?.(decoded.params);
      results[index] = decoded.segments.map((segment) => shift(segment, from / SAMPLE_RATE, to / SAMPLE_RATE));
      done += chunk.end - chunk.start;
      options.onProgress(done, total);
      // in chunk order: a chunk that finishes before an earlier one waits for it
      // (the index moves outside the call: `f?.(x++)` skips the increment when there is no f)
      for (; delivered < chunks.length && results[delivered] !== undefined; delivered++) options.onChunkDecoded?.(results[delivered]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.plan.concurrency, chunks.length) }, decoder));
  return results.flat();
}

/** Chunk-relative times → original timeline, kept inside the chunk. */
function shift(segment: WhisperSegment, offset: number, limit: number): WhisperSegment {
  const at = (t: number) => Math.min(limit, offset + t);
  return {
    ...segment,
    start: at(segment.start),
    end: at(segment.end),
    tokens: segment.tokens.map((token) => ({ ...token, start: at(token.start), end: at(token.end) })),
  };
}
