import { Logger } from '@nestjs/common';
import { loadConfig } from '@app/config';
import { JobName, MetricNames } from '@app/contracts';
import { parsePrometheusText, sumOf } from '../../../../test/support/prometheus-text';
import { LoadedModel, ModelCacheService } from '../models/model-cache.service';
import { ActiveJobsRegistry } from '../transcription/active-jobs.registry';
import { finishedJob } from './job-outcomes.listener';
import { WorkerMetrics } from './worker-metrics';

class FakeModel implements LoadedModel {
  constructor(
    readonly label: string,
    readonly bytes: number,
  ) {}
  async dispose(): Promise<void> {}
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('WorkerMetrics', () => {
  let cache: ModelCacheService;
  let activeJobs: ActiveJobsRegistry;
  let metrics: WorkerMetrics;
  const read = async () => parsePrometheusText(await metrics.registry.metrics());

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    cache = new ModelCacheService(loadConfig({ MODEL_CACHE_SIZE: '1' }));
    activeJobs = new ActiveJobsRegistry();
    metrics = new WorkerMetrics(cache, activeJobs);
  });
  afterEach(() => jest.restoreAllMocks());

  it('counts the model cache: misses and loads, hits, evictions, failed loads; loaded models and bytes per cache', async () => {
    const tiny = () => Promise.resolve(new FakeModel('tiny', 1_000));
    (await cache.acquire('whisper', 'whisper:tiny', tiny)).release();
    (await cache.acquire('whisper', 'whisper:tiny', tiny)).release();
    await cache.warm('whisper', 'whisper:tiny', tiny);
    // MODEL_CACHE_SIZE=1: a second model evicts the first
    (await cache.acquire('whisper', 'whisper:base', () => Promise.resolve(new FakeModel('base', 5_000)))).release();
    await cache.warm('vad', 'vad:silero', () => Promise.resolve(new FakeModel('silero', 300)));
    await expect(cache.acquire('align', 'align:xx', () => Promise.reject(new Error('no such model')))).rejects.toThrow('no such model');
    await flush();

    const text = await read();
    expect(sumOf(text, MetricNames.modelCacheMisses, { cache: 'whisper' })).toBe(2);
    expect(sumOf(text, MetricNames.modelCacheHits, { cache: 'whisper' })).toBe(2);
    expect(sumOf(text, MetricNames.modelCacheLoads, { cache: 'whisper', result: 'ok' })).toBe(2);
    expect(sumOf(text, MetricNames.modelCacheLoads, { cache: 'align', result: 'error' })).toBe(1);
    expect(sumOf(text, MetricNames.modelCacheEvictions, { cache: 'whisper', reason: 'evicted' })).toBe(1);
    expect(sumOf(text, `${MetricNames.modelLoadDuration}_count`, { cache: 'whisper' })).toBe(2);
    expect(sumOf(text, MetricNames.modelsLoaded, { cache: 'whisper' })).toBe(1);
    expect(sumOf(text, MetricNames.modelLoadedBytes, { cache: 'whisper' })).toBe(5_000);
    expect(sumOf(text, MetricNames.modelLoadedBytes, { cache: 'vad' })).toBe(300);

    await cache.unloadAll();
    const cleared = await read();
    expect(sumOf(cleared, MetricNames.modelCacheEvictions, { reason: 'cleared' })).toBe(2);
    expect(sumOf(cleared, MetricNames.modelLoadedBytes)).toBe(0);
  });

  it('counts a completed job: stage histograms, audio and processing seconds, real-time factor', async () => {
    const job = { name: JobName.Transcribe, processedOn: 10_000, finishedOn: 15_500 };
    const result = { model: 'small', duration: 11, timings_ms: { queued: 40, decode: 300, vad: 200, load_model: 0, transcribe: 4_000, assemble: 5, other: 'x' } };
    // a result whose timings are not all numbers is read without its timings, not thrown on
    expect(finishedJob(job, result as never).timingsMs).toEqual({});
    const { other: _other, ...timings } = result.timings_ms;
    metrics.jobCompleted(finishedJob(job, { ...result, timings_ms: timings }));
    activeJobs.start('j1');

    const text = await read();
    const labels = { kind: 'transcribe', model: 'small' };
    expect(sumOf(text, MetricNames.jobsCompleted, labels)).toBe(1);
    for (const stage of ['queued', 'decode', 'vad', 'load_model', 'transcribe']) {
      expect(sumOf(text, `${MetricNames.jobStageDuration}_count`, { ...labels, stage })).toBe(1);
    }
    // not a stage label value: the label stays bounded
    expect(sumOf(text, `${MetricNames.jobStageDuration}_count`, { stage: 'assemble' })).toBe(0);
    expect(sumOf(text, `${MetricNames.jobStageDuration}_sum`, { stage: 'transcribe' })).toBeCloseTo(4);
    expect(sumOf(text, MetricNames.audioProcessedSeconds, labels)).toBe(11);
    expect(sumOf(text, MetricNames.jobProcessingSeconds, labels)).toBeCloseTo(5.5);
    expect(sumOf(text, `${MetricNames.jobRealtimeFactor}_sum`, labels)).toBeCloseTo(0.5);
    expect(sumOf(text, MetricNames.workerActiveJobs)).toBe(1);
  });

  it('counts failures by code and cancels apart from failures', async () => {
    metrics.jobFailed('transcribe', 'invalid_audio');
    metrics.jobFailed('transcribe', 'invalid_audio');
    metrics.jobCancelled('transcribe');
    const text = await read();
    expect(sumOf(text, MetricNames.jobsFailed, { kind: 'transcribe', code: 'invalid_audio' })).toBe(2);
    expect(sumOf(text, MetricNames.jobsCancelled, { kind: 'transcribe', state: 'active' })).toBe(1);
  });

  it('without BullMQ timestamps, processing time is the sum of the stages after the queue', () => {
    const job = finishedJob({ name: 'something-else' } as never, { model: 'm', duration: 2, timings_ms: { queued: 1_000, decode: 100, transcribe: 900 } });
    expect(job).toMatchObject({ kind: 'other', processingSeconds: 1 });
  });
});
