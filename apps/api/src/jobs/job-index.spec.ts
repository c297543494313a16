import type Redis from 'ioredis';
import { JobListKeys } from '@app/contracts';
import { JobIndex } from './job-index';

/** Records the index's commands; answers like Redis would for these writes. */
function recordingRedis() {
  const calls: string[] = [];
  const redis = {
    zadd: async (key: string, score: number, member: string) => (calls.push(`zadd ${key} ${score} ${member}`), 1),
    expire: async (key: string, seconds: number) => (calls.push(`expire ${key} ${seconds}`), 1),
    zremrangebyscore: async (key: string, min: string, max: string) => (calls.push(`zremrangebyscore ${key} ${min} ${max}`), 0),
  };
  return { calls, redis: redis as unknown as Redis };
}

describe('JobIndex.record', () => {
  const retentionS = 3600;
  const owner = 'key-1';

  it('adds the job to its owner’s index and to every job’s, renewing both TTLs on each write', async () => {
    const { calls, redis } = recordingRedis();
    await new JobIndex(redis, retentionS).record(owner, 'job-a', 1_000_000);
    for (const key of [JobIndex.keyFor(owner), JobListKeys.all]) {
      expect(calls).toContain(`zadd ${key} 1000000 job-a`);
      expect(calls).toContain(`expire ${key} ${retentionS}`);
    }
  });

  it('trims entries past the retention on the first write to a key, then at most once a minute', async () => {
    const { calls, redis } = recordingRedis();
    const index = new JobIndex(redis, retentionS);
    const trims = () => calls.filter((call) => call.startsWith('zremrangebyscore'));
    const start = 10_000_000;
    await index.record(owner, 'job-a', start);
    expect(trims()).toEqual([
      `zremrangebyscore ${JobIndex.keyFor(owner)} -inf (${start - retentionS * 1000}`,
      `zremrangebyscore ${JobListKeys.all} -inf (${start - retentionS * 1000}`,
    ]);
    await index.record(owner, 'job-b', start + 59_000);
    expect(trims()).toHaveLength(2);
    // another owner's first job trims its own key only: every job's index was trimmed a moment ago
    await index.record('key-2', 'job-c', start + 59_500);
    expect(trims().slice(2)).toEqual([`zremrangebyscore ${JobIndex.keyFor('key-2')} -inf (${start + 59_500 - retentionS * 1000}`]);
    await index.record(owner, 'job-d', start + 60_000);
    expect(trims().slice(3)).toEqual([
      `zremrangebyscore ${JobIndex.keyFor(owner)} -inf (${start + 60_000 - retentionS * 1000}`,
      `zremrangebyscore ${JobListKeys.all} -inf (${start + 60_000 - retentionS * 1000}`,
    ]);
  });
});
