import { Logger } from '@nestjs/common';
import { loadConfig } from '@app/config';
import { LoadedModel, ModelCacheService } from './model-cache.service';

class FakeModel implements LoadedModel {
  disposed = 0;
  constructor(
    readonly label: string,
    readonly name?: string,
  ) {}
  readonly bytes = 1000;
  async dispose(): Promise<void> {
    this.disposed += 1;
  }
}

describe('ModelCacheService: DELETE /models and MODEL_IDLE_UNLOAD_S', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it('unloadWhere frees the whisper models loaded for a name (every file), leaves the others, and reports the name', async () => {
    const cache = new ModelCacheService(loadConfig({}));
    const freed: number[] = [];
    cache.onFreed(() => freed.push(Date.now()));
    const small = await cache.warm('whisper', 'whisper:ggml-small-q8_0.bin:cpu', async () => new FakeModel('small/int8', 'small'));
    const smallF16 = await cache.warm('whisper', 'whisper:ggml-small.bin:cpu', async () => new FakeModel('small/ggml', 'small'));
    const base = await cache.warm('whisper', 'whisper:ggml-base.bin:cpu', async () => new FakeModel('base/ggml', 'base'));
    expect(cache.loadedModels().map((m) => m.name)).toEqual(['small', 'small', 'base']);
    expect(await cache.unloadWhere('whisper', (m) => m.name === 'small')).toEqual({ unloaded: 2, pending: 0 });
    expect([small.disposed, smallF16.disposed, base.disposed]).toEqual([1, 1, 0]);
    expect(cache.loadedLabels()).toEqual(['base/ggml']);
    expect(freed).toHaveLength(2);
    expect(await cache.unloadWhere('whisper', (m) => m.name === 'small')).toEqual({ unloaded: 0, pending: 0 });
  });

  it('unloadWhere on a model a job holds: pending, freed when the job lets go', async () => {
    const cache = new ModelCacheService(loadConfig({}));
    let removed = 0;
    cache.onRemoved(() => removed++);
    const lease = await cache.acquire('whisper', 'whisper:a', async () => new FakeModel('a/ggml', 'a'));
    expect(await cache.unloadWhere('whisper', (m) => m.name === 'a')).toEqual({ unloaded: 1, pending: 1 });
    // told at once, while the job still holds it (the heartbeat shows it draining)
    expect(removed).toBe(1);
    expect(cache.loadedModels()).toEqual([{ label: 'a/ggml', kind: 'whisper', bytes: 1000, in_use: 1, draining: true, name: 'a' }]);
    lease.release();
    await cache.drained();
    expect(lease.model.disposed).toBe(1);
    expect(cache.loadedModels()).toEqual([]);
  });

  it('unloadIdle frees idle models of every kind but never one under lease', async () => {
    const cache = new ModelCacheService(loadConfig({}));
    const idleWhisper = await cache.warm('whisper', 'whisper:a', async () => new FakeModel('a/ggml', 'a'));
    const vad = await cache.warm('vad', 'vad', async () => new FakeModel('vad/silero'));
    const held = await cache.acquire('align', 'align:en', async () => new FakeModel('align:en/x'));
    expect((await cache.unloadIdle(0)).sort()).toEqual(['vad', 'whisper:a']);
    expect([idleWhisper.disposed, vad.disposed, held.model.disposed]).toEqual([1, 1, 0]);
    expect(cache.loadedLabels()).toEqual(['align:en/x']);
    held.release();
    expect(await cache.unloadIdle(60_000)).toEqual([]);
    expect(await cache.unloadIdle(0)).toEqual(['align:en']);
  });

  it('with MODEL_IDLE_UNLOAD_S=1 the timer frees an unused model after about a second, and stops at shutdown', async () => {
    const cache = new ModelCacheService(loadConfig({ MODEL_IDLE_UNLOAD_S: '1' }));
    cache.onApplicationBootstrap();
    const loadedAt = Date.now();
    const model = await cache.warm('whisper', 'whisper:a', async () => new FakeModel('a/ggml', 'a'));
    const freedAt = await new Promise<number>((resolve) => cache.onFreed(() => resolve(Date.now())));
    expect(model.disposed).toBe(1);
    expect(freedAt - loadedAt).toBeGreaterThanOrEqual(1_000);
    expect(freedAt - loadedAt).toBeLessThan(1_600);
    await cache.onApplicationShutdown();
  });

  it('MODEL_IDLE_UNLOAD_S=0 (default): no timer, nothing is freed', async () => {
    const cache = new ModelCacheService(loadConfig({}));
    cache.onApplicationBootstrap();
    const model = await cache.warm('whisper', 'whisper:a', async () => new FakeModel('a/ggml', 'a'));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(model.disposed).toBe(0);
    await cache.onApplicationShutdown();
  });
});
