import { Logger } from '@nestjs/common';
import { loadConfig } from '@app/config';
import { LoadedModelKind } from '@app/contracts';
import { JobLeases, LoadedModel, ModelCacheService } from './model-cache.service';

class FakeModel implements LoadedModel {
  disposed = 0;
  constructor(
    readonly label: string,
    readonly bytes = 1000,
  ) {}
  async dispose(): Promise<void> {
    this.disposed += 1;
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('ModelCacheService: one cache per kind, leases', () => {
  let loads: string[];
  const loader = (label: string) => async () => {
    loads.push(label);
    return new FakeModel(label);
  };
  const lease = (cache: ModelCacheService, kind: LoadedModelKind, label: string) => cache.acquire(kind, `${kind}:${label}`, loader(label));

  beforeEach(() => {
    loads = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('reads ALIGN_CACHE_SIZE (default 2) beside MODEL_CACHE_SIZE (default 3)', () => {
    expect(loadConfig({})).toMatchObject({ modelCacheSize: 3, alignCacheSize: 2 });
    expect(loadConfig({ ALIGN_CACHE_SIZE: '5' }).alignCacheSize).toBe(5);
    expect(() => loadConfig({ ALIGN_CACHE_SIZE: '0' })).toThrow(/ALIGN_CACHE_SIZE/);
  });

  it('a diarize + align_words + VAD job keeps whisper cached with the default sizes (no reload on the next job)', async () => {
    const cache = new ModelCacheService(loadConfig({}));
    for (let job = 0; job < 3; job++) {
      const leases = new JobLeases();
      leases.hold(await lease(cache, 'whisper', 'small/int8'));
      leases.hold(await lease(cache, 'vad', 'vad/silero'));
      leases.hold(await lease(cache, 'align', 'align:en/w2v'));
      leases.hold(await lease(cache, 'diarize', 'diarize/emb'));
      leases.releaseAll();
    }
    expect(loads).toEqual(['small/int8', 'vad/silero', 'align:en/w2v', 'diarize/emb']);
    expect(cache.size).toBe(4);
  });

  it('MODEL_CACHE_SIZE counts whisper models only: with 1, VAD and alignment never evict whisper', async () => {
    const cache = new ModelCacheService(loadConfig({ MODEL_CACHE_SIZE: '1' }));
    const whisper = await lease(cache, 'whisper', 'tiny/ggml');
    await cache.warm('vad', 'vad:silero', loader('vad/silero'));
    await cache.warm('align', 'align:en', loader('align:en/w2v'));
    await cache.warm('diarize', 'diarize:d', loader('diarize/emb'));
    expect(cache.loadedLabels()).toEqual(['tiny/ggml', 'vad/silero', 'align:en/w2v', 'diarize/emb']);
    expect(whisper.model).toMatchObject({ disposed: 0 });
    // a second whisper model evicts the first, which is freed only when its job lets go
    await cache.warm('whisper', 'whisper:small', loader('small/int8'));
    await flush();
    expect(whisper.model).toMatchObject({ disposed: 0 });
    expect(cache.loadedModels().find((m) => m.label === 'tiny/ggml')).toEqual({ label: 'tiny/ggml', kind: 'whisper', bytes: 1000, in_use: 1, draining: true });
    expect(cache.loadedLabels()).not.toContain('tiny/ggml');
    whisper.release();
    await cache.drained();
    expect(whisper.model).toMatchObject({ disposed: 1 });
  });

  it('alignment models have their own LRU of ALIGN_CACHE_SIZE, by language', async () => {
    const cache = new ModelCacheService(loadConfig({}));
    const models = [];
    for (const language of ['en', 'de', 'fr']) models.push(await cache.warm('align', `align:${language}`, loader(`align:${language}/m`)));
    await flush();
    expect(models.map((m) => (m as FakeModel).disposed)).toEqual([1, 0, 0]);
    expect(cache.loadedModels().filter((m) => m.kind === 'align').map((m) => m.label)).toEqual(['align:de/m', 'align:fr/m']);
  });

  it('unloadAll (/gc) frees idle models now, leased ones when their job releases them', async () => {
    const cache = new ModelCacheService(loadConfig({}));
    const job = new JobLeases();
    const whisper = job.hold(await lease(cache, 'whisper', 'small/int8')) as FakeModel;
    const diarize = job.hold(await lease(cache, 'diarize', 'diarize/emb')) as FakeModel;
    const vad = (await cache.warm('vad', 'vad:silero', loader('vad/silero'))) as FakeModel;
    expect(await cache.unloadAll()).toEqual({ unloaded: 3, pending: 2 });
    expect(vad.disposed).toBe(1);
    expect([whisper.disposed, diarize.disposed]).toEqual([0, 0]);
    expect(cache.size).toBe(0);
    expect(cache.loadedLabels()).toEqual([]);
    expect(cache.loadedModels().map((m) => [m.label, m.draining, m.in_use])).toEqual([
      ['small/int8', true, 1],
      ['diarize/emb', true, 1],
    ]);
    job.releaseAll();
    await cache.drained();
    expect([whisper.disposed, diarize.disposed]).toEqual([1, 1]);
    expect(cache.loadedModels()).toEqual([]);
  });
});
