import Redis from 'ioredis';
import { loadConfig } from '@app/config';
import { ModelCacheService } from '../models/model-cache.service';
import { WhisperModelsService } from '../models/whisper-models.service';
import { ActiveJobsRegistry } from '../transcription/active-jobs.registry';
import { HeartbeatService, IDLE_BEAT_DELAY_MS } from './heartbeat.service';

describe('HeartbeatService', () => {
  it('writes no beat after shutdown removed its entry (a late beat would advertise a stopped worker for 15 s)', async () => {
    const commands: string[] = [];
    const redis = {
      hset: async (key: string) => void commands.push(`hset ${key}`),
      hdel: async (key: string) => void commands.push(`hdel ${key}`),
    } as unknown as Redis;
    const cache = { loadedLabels: () => [], loadedModels: () => [] } as unknown as ModelCacheService;
    const models = { availableModels: () => [] } as unknown as WhisperModelsService;
    const service = new HeartbeatService(loadConfig({}), redis, models, cache, new ActiveJobsRegistry());
    await service.beat();
    await service.onApplicationShutdown();
    // e.g. the /gc handler beating once the models a job held are drained, during shutdown
    await service.beat();
    expect(commands).toEqual(['hset tx:workers', 'hdel tx:workers']);
  });

  it('beats at once when a job starts on an idle worker; back to idle after IDLE_BEAT_DELAY_MS unless another job started', async () => {
    const beats: { busy: boolean }[] = [];
    const redis = {
      hset: async (_key: string, _field: string, value: string) => void beats.push(JSON.parse(value) as { busy: boolean }),
      hdel: async () => 1,
    } as unknown as Redis;
    const cache = { loadedLabels: () => [], loadedModels: () => [], onFreed: () => () => undefined, onRemoved: () => () => undefined } as unknown as ModelCacheService;
    const models = { availableModels: () => [] } as unknown as WhisperModelsService;
    const activeJobs = new ActiveJobsRegistry();
    const service = new HeartbeatService(loadConfig({}), redis, models, cache, activeJobs);
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const busyBeats = () => beats.map((beat) => beat.busy);
    await service.onApplicationBootstrap();
    expect(busyBeats()).toEqual([false]);
    activeJobs.start('job-1');
    await wait(5);
    expect(busyBeats()).toEqual([false, true]);
    // back-to-back jobs: the end of one and the start of the next write nothing
    activeJobs.finish('job-1');
    activeJobs.start('job-2');
    await wait(IDLE_BEAT_DELAY_MS + 50);
    expect(busyBeats()).toEqual([false, true]);
    activeJobs.finish('job-2');
    await wait(IDLE_BEAT_DELAY_MS / 2);
    expect(busyBeats()).toEqual([false, true]);
    await wait(IDLE_BEAT_DELAY_MS);
    expect(busyBeats()).toEqual([false, true, false]);
    await service.onApplicationShutdown();
    activeJobs.start('job-3');
    await wait(5);
    expect(beats).toHaveLength(3);
  });
});
