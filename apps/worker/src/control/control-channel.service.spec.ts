import Redis from 'ioredis';
import { loadConfig } from '@app/config';
import { ModelCacheService } from '../models/model-cache.service';
import { WhisperModelsService } from '../models/whisper-models.service';
import { ActiveJobsRegistry } from '../transcription/active-jobs.registry';
import { ControlChannelService } from './control-channel.service';
import { HeartbeatService } from './heartbeat.service';

/** The order of what the worker writes: the heartbeat and the replies. */
function recordingWorker() {
  const order: string[] = [];
  const redis = { options: { db: 0 }, publish: async (channel: string) => void order.push(`reply ${channel}`) } as unknown as Redis;
  const heartbeat = { beat: async () => void order.push('beat') } as unknown as HeartbeatService;
  const cache = { unloadAll: async () => ({ unloaded: 1, pending: 0 }), drained: async () => undefined } as unknown as ModelCacheService;
  const models = { unload: async () => ({ unloaded: 1, pending: 0 }), preload: async () => ({ model: { label: 'm/ggml', bytes: 1 }, alreadyLoaded: false }) } as unknown as WhisperModelsService;
  const service = new ControlChannelService(loadConfig({}), redis, cache, new ActiveJobsRegistry(), heartbeat, models);
  // the handlers the subscriber calls with each message
  const handlers = service as unknown as { controlModel(message: string): Promise<void>; collectGarbage(message: string): Promise<void> };
  return { order, handlers };
}

describe('ControlChannelService: the heartbeat shows a change before the caller hears of it', () => {
  it.each(['load', 'unload'])('model %s: beat, then reply (GET /models right after the answer sees it)', async (action) => {
    const { order, handlers } = recordingWorker();
    await handlers.controlModel(JSON.stringify({ request_id: 'r1', action, model: 'm' }));
    expect(order).toEqual(['beat', expect.stringMatching(/^reply /)]);
  });

  it('gc: beat, then reply', async () => {
    const { order, handlers } = recordingWorker();
    await handlers.collectGarbage(JSON.stringify({ request_id: 'r2' }));
    expect(order).toEqual(['beat', expect.stringMatching(/^reply /)]);
  });
});
