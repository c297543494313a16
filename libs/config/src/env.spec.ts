import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ENV_VARIABLES, loadConfig } from './env';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      port: 8000,
      device: 'cpu',
      computeType: 'int8',
      modelDir: './models',
      whisperModel: 'small',
      modelCacheSize: 3,
      workerConcurrency: 1,
      host: '127.0.0.1',
      uploadIdleTimeoutS: 30,
      maxQueuedPerKey: 100,
      resultTtlS: 3600,
      gcTimeoutMs: 10_000,
      shutdownGraceS: 30,
    });
    expect(config.adminToken).toBeUndefined();
  });

  it('reads the variables of the original Python service', () => {
    const config = loadConfig({ DEVICE: 'cuda', COMPUTE_TYPE: 'float16', WHISPER_MODEL: 'tiny', MODEL_CACHE_SIZE: '5', HF_AUTH_TOKEN: 'hf_x', API_KEYS: 'a, b,' });
    expect(config.device).toBe('cuda');
    expect(config.computeType).toBe('float16');
    expect(config.whisperModel).toBe('tiny');
    expect(config.modelCacheSize).toBe(5);
    expect(config.hfAuthToken).toBe('hf_x');
    expect(config.apiKeys).toEqual(['a', 'b']);
  });

  it.each([
    ['DEVICE', 'tpu'],
    ['COMPUTE_TYPE', 'int4'],
    ['MODEL_CACHE_SIZE', '0'],
    ['PORT', 'eighty'],
    ['REDIS_URL', 'localhost:6379'],
    ['UPLOAD_IDLE_TIMEOUT_S', '0'],
    ['MAX_QUEUED_PER_KEY', 'lots'],
    ['RESULT_TTL_S', '5'],
    ['GC_TIMEOUT_MS', 'soon'],
    ['SHUTDOWN_GRACE_S', '0'],
  ])('fails fast naming %s when it is %s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe('AUDIO_REDIS_URL', () => {
  it('defaults to REDIS_URL and must be a redis:// URL', () => {
    expect(loadConfig({ REDIS_URL: 'redis://queue:6379/2' }).audioRedisUrl).toBe('redis://queue:6379/2');
    expect(loadConfig({ AUDIO_REDIS_URL: 'redis://audio:6379' }).audioRedisUrl).toBe('redis://audio:6379');
    expect(() => loadConfig({ AUDIO_REDIS_URL: 'audio:6379' })).toThrow(ConfigError);
  });
});

describe('ENV_VARIABLES', () => {
  it('lists exactly the variables loadConfig reads', () => {
    // loadConfig, and redisHaVars that it calls (the Redis high-availability variables)
    const source =
      readFileSync(join(__dirname, 'env.ts'), 'utf8').split('export function loadConfig')[1] +
      readFileSync(join(__dirname, 'env-redis.ts'), 'utf8').split('export function redisHaVars')[1];
    const read = new Set([...source.matchAll(/env(?:\.|, ')([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
    expect([...read].sort()).toEqual([...ENV_VARIABLES].sort());
  });
});
