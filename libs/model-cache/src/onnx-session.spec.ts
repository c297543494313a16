import { join } from 'node:path';
import { defaultSileroVadPath } from '@app/vad';
import { createOnnxSession } from './onnx-session';

describe('createOnnxSession', () => {
  const model = defaultSileroVadPath();

  it('says which execution provider the session got (cpu when asked for the CPU)', async () => {
    const lines: string[] = [];
    const { session, provider } = await createOnnxSession(model, { useGpu: false, threads: 1, log: (m) => lines.push(m), extra: { logSeverityLevel: 3 } });
    expect(provider).toBe('cpu');
    expect(session.inputNames.length).toBeGreaterThan(0);
    expect(lines).toEqual([`${model.split('/').pop()}: onnxruntime execution provider cpu`]);
    await session.release();
  });

  it('asked for CUDA on a build without its provider: falls back to the CPU and says why', async () => {
    const lines: string[] = [];
    const { provider, session } = await createOnnxSession(model, { useGpu: true, log: (m) => lines.push(m), extra: { logSeverityLevel: 3 } });
    if (provider === 'cuda') {
      // a machine with the CUDA provider installed: nothing to fall back from
      expect(lines[0]).toMatch(/execution provider cuda$/);
    } else {
      expect(lines[0]).toMatch(/execution provider cpu \(CUDA provider unavailable: .+\)$/);
    }
    await session.release();
  });

  it('a missing file still fails', async () => {
    await expect(createOnnxSession(join(__dirname, 'no-such-model.onnx'), { useGpu: false })).rejects.toThrow();
  });
});
