import Redis from 'ioredis';
import { loadConfig } from '@app/config';
import { ModelCacheService } from '../models/model-cache.service';
import { WhisperModelsService } from '../models/whisper-models.service';
import { ActiveJobsRegistry } from '../transcription/active-jobs.registry';
import { HeartbeatService } from './heartbeat.service';

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
});
