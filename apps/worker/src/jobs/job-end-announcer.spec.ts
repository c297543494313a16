import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import { JOB_END_INLINE_BYTES, RedisChannels } from '@app/contracts';
import type { TranscriptionProcessor } from '../transcription/transcription.processor';
import { JobEndAnnouncer } from './job-end-announcer';

function announcer() {
  const published: [string, string][] = [];
  const redis = { options: { db: 4 }, publish: async (channel: string, message: string) => (published.push([channel, message]), 1) } as unknown as Redis;
  const worker = new EventEmitter();
  const subject = new JobEndAnnouncer({ worker } as unknown as TranscriptionProcessor, redis);
  subject.onApplicationBootstrap();
  return { published, worker, subject };
}

describe('JobEndAnnouncer', () => {
  it('announces a completed job with its result, and a failed one with its reason, on the job-ended channel', () => {
    const { published, worker } = announcer();
    worker.emit('completed', { id: 'job-1' }, { text: 'hi' });
    worker.emit('failed', { id: 'job-2', failedReason: '{"code":"corrupt_audio"}' }, new Error('ignored'));
    expect(published).toEqual([
      [RedisChannels.jobEnded(4), JSON.stringify({ id: 'job-1', result: { text: 'hi' } })],
      [RedisChannels.jobEnded(4), JSON.stringify({ id: 'job-2', failedReason: '{"code":"corrupt_audio"}' })],
    ]);
  });

  it('leaves a result over JOB_END_INLINE_BYTES in the job (every API would receive it): only the id goes out', () => {
    const { published, worker } = announcer();
    worker.emit('completed', { id: 'job-big' }, { text: 'x'.repeat(JOB_END_INLINE_BYTES) });
    expect(published).toEqual([[RedisChannels.jobEnded(4), JSON.stringify({ id: 'job-big' })]]);
  });

  it('stops announcing at shutdown', () => {
    const { published, worker, subject } = announcer();
    subject.onApplicationShutdown();
    worker.emit('completed', { id: 'job-late' }, {});
    expect(published).toEqual([]);
  });
});
