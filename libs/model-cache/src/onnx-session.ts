import { basename } from 'node:path';
import * as ort from 'onnxruntime-node';

export type OnnxExecutionProvider = 'cuda' | 'cpu';

export interface OnnxSessionOptions {
  /** try onnxruntime's CUDA execution provider first (DEVICE=cuda) */
  useGpu: boolean;
  threads?: number;
  /** anything else the model needs (execution mode, log level…) */
  extra?: ort.InferenceSession.SessionOptions;
  /** where the provider each session got is reported */
  log?: (message: string) => void;
}

export interface OnnxSession {
  session: ort.InferenceSession;
  provider: OnnxExecutionProvider;
}

/**
 * Opens an ONNX model on the CUDA execution provider when asked and available, else on the CPU,
 * and says which it got: a GPU host whose image lacks the CUDA provider would otherwise run
 * alignment and diarization on the CPU without anyone noticing.
 */
export async function createOnnxSession(path: string, options: OnnxSessionOptions): Promise<OnnxSession> {
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    // onnxruntime rejects an explicit undefined here
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    ...options.extra,
  };
  const file = basename(path);
  if (options.useGpu) {
    try {
      const session = await ort.InferenceSession.create(path, { ...base, executionProviders: ['cuda', 'cpu'] });
      options.log?.(`${file}: onnxruntime execution provider cuda`);
      return { session, provider: 'cuda' };
    } catch (error) {
      // the CPU-only onnxruntime-node package has no CUDA provider: fall back rather than fail the job
      options.log?.(`${file}: onnxruntime execution provider cpu (CUDA provider unavailable: ${(error as Error).message.split('\n')[0]})`);
      return { session: await ort.InferenceSession.create(path, { ...base, executionProviders: ['cpu'] }), provider: 'cpu' };
    }
  }
  const session = await ort.InferenceSession.create(path, { ...base, executionProviders: ['cpu'] });
  options.log?.(`${file}: onnxruntime execution provider cpu`);
  return { session, provider: 'cpu' };
}
