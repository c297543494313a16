/**
 * Many big uploads at once (issue 14 item 6: "API RSS stays under 300 MB while 50 clients upload
 * 100 MB each"), sized for CI on 2 cores: 20 clients stream 50 MB WAVs at the same time (async) to
 * the real API and worker on the test database. The API's RSS is sampled from /proc every 100 ms
 * (and its VmHWM read after); every audio key's MEMORY USAGE every 500 ms. The WAV headers declare
 * > 48 h of audio, so the worker refuses each job from its first chunk (audio_too_long) and deletes
 * its chunks: nothing is decoded, and the 1 GB leaves Redis right after the uploads.
 * `npm run load` runs the full 50 × 100 MB (its big-uploads phase) with the same code.
 */
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import { JFK_WAV } from '../support/samples';
import { auditAudioKeys, processMemoryMb, runConcurrentUploads } from '../support/concurrent-uploads';
import { postTranscribe, ServiceStack, startStack, TEST_REDIS_URL } from '../support/service-harness';

jest.setTimeout(300_000);

const MB = 1024 * 1024;
const CLIENTS = 20;
const FILE_MB = 50;

describe('concurrent big uploads: the API streams them with bounded memory', () => {
  let stack: ServiceStack;
  let redis: Redis;

  beforeAll(async () => {
    stack = await startStack(
      { WHISPER_MODEL: 'synthetic-micro' },
      // one client address sends all 20: no per-client backlog cap or rate limit in the way
      { MAX_QUEUED_PER_KEY: '1000', RATE_LIMIT_PER_MIN: '0', LOG_LEVEL: 'warn' },
    );
    redis = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    await stack?.stop();
    await redis?.quit();
  });

  it(`${CLIENTS} clients × ${FILE_MB} MB at once: every upload answered 202, API RSS peak < before + 150 MB and < 300 MB, no Redis key over 4 MB, no audio key left`, async () => {
    const pid = stack.api.child.pid!;
    // warm: the routes, the connections and the parser have run once
    expect((await postTranscribe(stack.base, readFileSync(JFK_WAV), { async: 'true' }, 'jfk.wav')).status).toBe(202);
    const result = await runConcurrentUploads({
      base: stack.base,
      clients: CLIENTS,
      dataBytes: FILE_MB * MB,
      audioRedis: redis,
      apiMemory: async () => processMemoryMb(pid),
      everyMs: 100,
      auditEveryMs: 500,
      timeoutMs: 180_000,
      settleMs: 60_000,
    });
    console.log(`${CLIENTS} × ${FILE_MB} MB concurrent uploads: ${JSON.stringify(result)}`);

    expect(result.statuses).toEqual({ 202: CLIENTS });
    expect(result.jobOutcomes).toEqual({ audio_too_long: CLIENTS });
    // the sampled peak, and the kernel's own high-water mark (VmHWM), against the RSS before
    const peakMb = Math.max(result.apiRssPeakMb!, result.apiHwmAfterMb!);
    expect(result.apiRssSamples).toBeGreaterThan(10);
    expect(peakMb - result.apiRssBeforeMb!).toBeLessThan(150);
    expect(peakMb).toBeLessThan(300);
    // the chunks were there while the uploads ran (what the bounds are about), each about 1 MB
    expect(result.mostAudioKeys).toBeGreaterThan(CLIENTS);
    expect(result.biggestAudioKeyBytes).toBeGreaterThan(MB);
    expect(result.biggestAudioKeyBytes).toBeLessThan(4 * MB);
    expect(result.redisUsedPeakMb! - result.redisUsedBeforeMb).toBeGreaterThan(100);
    // all gone once the jobs were refused
    expect(result.audioKeysLeft).toBe(0);
    expect((await auditAudioKeys(redis)).keys).toBe(0);
  });
});
