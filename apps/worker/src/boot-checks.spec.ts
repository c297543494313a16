import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@app/config';
import { BootProbes, checkDefaultModel, checkDevice, runWorkerBootChecks } from './boot-checks';

const quiet = { log: () => undefined, warn: () => undefined };

function modelDir(...files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'boot-checks-'));
  for (const file of files) writeFileSync(join(dir, file), 'x');
  return dir;
}

function probes(overrides: Partial<BootProbes> = {}): BootProbes {
  return { gpuDevices: () => [], redisDatabase: async () => 'selected', ...overrides };
}

async function failure(run: () => unknown): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('worker boot checks', () => {
  describe('DEVICE', () => {
    it('refuses cuda when the addon has no GPU device, naming DEVICE', async () => {
      const error = await failure(() => checkDevice({ device: 'cuda' }, () => []));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toMatch(/DEVICE/);
      expect(error.message).toMatch(/without CUDA/);
    });

    it('accepts cuda with a GPU device, and cpu without asking', () => {
      expect(checkDevice({ device: 'cuda' }, () => ['CUDA0: NVIDIA H200'])).toEqual(['CUDA0: NVIDIA H200']);
      expect(checkDevice({ device: 'cpu' }, () => { throw new Error('not asked'); })).toEqual([]);
    });
  });

  describe('WHISPER_MODEL', () => {
    it('refuses a name that is neither official nor in MODEL_DIR, naming WHISPER_MODEL', async () => {
      const error = await failure(() => checkDefaultModel({ whisperModel: 'no-such-model', computeType: 'int8', modelDir: modelDir() }));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toMatch(/WHISPER_MODEL/);
      expect(error.message).toMatch(/ggml-no-such-model\.bin/);
    });

    it('refuses a name that is not a file name at all', async () => {
      const error = await failure(() => checkDefaultModel({ whisperModel: '../etc/passwd', computeType: 'int8', modelDir: modelDir() }));
      expect(error.message).toMatch(/WHISPER_MODEL/);
    });

    it('accepts an official name without its file (downloaded on first use) and a custom file present', () => {
      expect(() => checkDefaultModel({ whisperModel: 'small', computeType: 'int8', modelDir: modelDir() })).not.toThrow();
      expect(() => checkDefaultModel({ whisperModel: 'mine', computeType: 'int8', modelDir: modelDir('ggml-mine.bin') })).not.toThrow();
      expect(() => checkDefaultModel({ whisperModel: 'mine', computeType: 'int8', modelDir: modelDir('ggml-mine-q8_0.bin') })).not.toThrow();
    });
  });

  describe('runWorkerBootChecks', () => {
    const config = (env: Record<string, string>) => loadConfig({ MODEL_DIR: modelDir('ggml-mine.bin'), WHISPER_MODEL: 'mine', ...env });

    it('passes a sound configuration', async () => {
      await expect(runWorkerBootChecks(config({}), quiet, probes())).resolves.toBeUndefined();
    });

    it('fails on the Redis database check (REDIS_URL)', async () => {
      const redisDatabase = async () => {
        throw new ConfigError('REDIS_URL', 'no database 99');
      };
      const error = await failure(() => runWorkerBootChecks(config({ REDIS_URL: 'redis://127.0.0.1:6379/99' }), quiet, probes({ redisDatabase })));
      expect(error.message).toMatch(/REDIS_URL/);
    });

    it('warns, but starts, when Redis does not answer', async () => {
      const warnings: string[] = [];
      await runWorkerBootChecks(config({}), { ...quiet, warn: (m: string) => void warnings.push(m) }, probes({ redisDatabase: async () => 'unverified' }));
      expect(warnings.join()).toMatch(/not verified/);
    });

    it('fails on the bucket check (BLOB_STORE=s3), warns but starts when the endpoint does not answer', async () => {
      const s3 = config({ BLOB_STORE: 's3', S3_BUCKET: 'uploads', S3_ENDPOINT: 'http://127.0.0.1:9' });
      const missing = async () => {
        throw new ConfigError('S3_BUCKET', 'does not exist');
      };
      expect((await failure(() => runWorkerBootChecks(s3, quiet, probes({ blobStore: missing })))).message).toMatch(/S3_BUCKET/);
      const warnings: string[] = [];
      await runWorkerBootChecks(s3, { ...quiet, warn: (m: string) => void warnings.push(m) }, probes({ blobStore: async () => 'unreachable' }));
      expect(warnings.join()).toMatch(/S3_ENDPOINT did not answer.*"uploads"/);
    });

    it('checks DEVICE and WHISPER_MODEL before touching Redis', async () => {
      let asked = false;
      const redisDatabase = async () => {
        asked = true;
        return 'selected' as const;
      };
      await expect(runWorkerBootChecks(config({ DEVICE: 'cuda' }), quiet, probes({ redisDatabase }))).rejects.toThrow(/DEVICE/);
      await expect(runWorkerBootChecks(config({ WHISPER_MODEL: 'nope' }), quiet, probes({ redisDatabase }))).rejects.toThrow(/WHISPER_MODEL/);
      expect(asked).toBe(false);
    });
  });
});
