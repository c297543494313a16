import { ErrorCode } from './errors';
import { decodeJobEvent, encodeJobEvent, isFinalJobEvent, JobEvent, jobEventsKey } from './job-events';

describe('job events (the per-job Redis Stream)', () => {
  const events: JobEvent[] = [
    { type: 'active', stage: 'transcribe', percent: 42 },
    { type: 'segment', index: 3, start: 1.5, end: 2.25, text: 'Ask not' },
    { type: 'completed', text: 'Ask not what', duration: 11, language: 'en' },
    { type: 'failed', error: { code: ErrorCode.JobCancelled, message: 'job was cancelled' } },
  ];

  it('round-trips every event through the stream entry fields', () => {
    for (const event of events) {
      const fields = encodeJobEvent(event);
      expect(fields.slice(0, 3)).toEqual(['type', event.type, 'data']);
      expect(decodeJobEvent(fields)).toEqual(event);
    }
  });

  it('skips entries it does not know (a newer writer, damage) instead of failing', () => {
    expect(decodeJobEvent(['type', 'progress', 'data', '{"type":"progress","percent":5}'])).toBeUndefined();
    expect(decodeJobEvent(['data', '{not json'])).toBeUndefined();
    expect(decodeJobEvent(['type', 'segment'])).toBeUndefined();
    // "data" as a value, not as a field name
    expect(decodeJobEvent(['type', 'data'])).toBeUndefined();
  });

  it('completed and failed are final; the key sits under the service prefix', () => {
    expect(events.map(isFinalJobEvent)).toEqual([false, false, true, true]);
    expect(jobEventsKey('abc')).toBe('tx:events:abc');
  });
});
