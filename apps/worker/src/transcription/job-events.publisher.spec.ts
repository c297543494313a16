import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { decodeJobEvent, JobEvent } from '@app/contracts';
import { ACTIVE_EVENT_INTERVAL_MS, JobEventsPublisher } from './job-events.publisher';

/** Just enough of ioredis for the sink: records the event each append script carries (its fields follow the key, max length and TTL). */
function recordingRedis(): { redis: Redis; events: JobEvent[] } {
  const events: JobEvent[] = [];
  const evalScript = async (_script: string, _keys: number, _key: string, _maxLen: string, _ttl: string, ...fields: string[]) => {
    events.push(decodeJobEvent(fields) as JobEvent);
    return '1-0';
  };
  return { redis: { eval: evalScript } as unknown as Redis, events };
}

describe('JobEventSink.progress (active events)', () => {
  it('a new stage goes out at once; the same stage at most once per interval, and only when it moved', async () => {
    const { redis, events } = recordingRedis();
    const sink = new JobEventsPublisher(redis, 60, new Logger('test')).forJob('job');
    const t0 = 1_000_000;
    sink.progress({ stage: 'decode', percent: 1 }, t0);
    sink.progress({ stage: 'vad', percent: 2 }, t0 + 1);
    sink.progress({ stage: 'transcribe', percent: 10 }, t0 + 2);
    // whisper's callbacks: many small steps within the interval, dropped
    for (let p = 11; p < 20; p++) sink.progress({ stage: 'transcribe', percent: p }, t0 + 2 + p);
    // the same percent after the interval: nothing moved, nothing sent
    sink.progress({ stage: 'transcribe', percent: 10 }, t0 + 2 + ACTIVE_EVENT_INTERVAL_MS);
    sink.progress({ stage: 'transcribe', percent: 30 }, t0 + 2 + ACTIVE_EVENT_INTERVAL_MS);
    sink.progress({ stage: 'transcribe', percent: 31 }, t0 + 3 + ACTIVE_EVENT_INTERVAL_MS);
    sink.progress({ stage: 'assemble', percent: 99 }, t0 + 4 + ACTIVE_EVENT_INTERVAL_MS);
    await sink.failed({ code: 'internal' as never, message: 'end' });
    expect(events.map((event) => (event.type === 'active' ? `${event.stage}:${event.percent}` : event.type))).toEqual([
      'decode:1',
      'vad:2',
      'transcribe:10',
      'transcribe:30',
      'assemble:99',
      'failed',
    ]);
  });

  it('a model download moves by its bytes while the percent stays', async () => {
    const { redis, events } = recordingRedis();
    const sink = new JobEventsPublisher(redis, 60, new Logger('test')).forJob('job');
    const download = (received_bytes: number) => ({ stage: 'downloading_model' as const, percent: 6, download: { file: 'm.bin', received_bytes } });
    sink.progress(download(1), 0);
    sink.progress(download(2), 10);
    sink.progress(download(3), 10 + ACTIVE_EVENT_INTERVAL_MS);
    await sink.failed({ code: 'internal' as never, message: 'end' });
    expect(events.filter((event) => event.type === 'active').map((event) => (event as { download?: { received_bytes: number } }).download?.received_bytes)).toEqual([1, 3]);
  });
});
