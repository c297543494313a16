/**
 * Live progress over Server-Sent Events (issue 13, item 2): GET /jobs/:id/events against the real
 * API and worker in separate processes (the events travel through the job's Redis Stream). A job
 * submitted while the single worker is busy with a long one says `queued` (its place in line) first,
 * then `active`, its `segment`s as they are decoded, and exactly one `completed` at the end; a
 * reconnect with Last-Event-ID after the first segment gets the rest and nothing twice; another key
 * gets 404; corrupt audio ends in `failed`, a DELETE while queued in `cancelled`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import { jobEventsKey } from '@app/contracts';
import { JFK_WAV } from '../support/samples';
import { freePort, getJson, postTranscribe, prepareRedis, RunningProcess, startApi, startWorker, TEST_REDIS_URL, waitFor } from '../support/service-harness';
import { encodeWav, readPcm16Wav, repeatSpeech } from '../support/wav';

const K1 = 'job-events-key-1';
const K2 = 'job-events-key-2';
const as = (key: string) => ({ authorization: `Bearer ${key}` });

interface SseEvent {
  id?: string;
  event: string;
  data: any;
  at: number;
}

interface SseRead {
  status: number;
  contentType: string | null;
  events: SseEvent[];
  /** arrival times of `: ping` comments */
  pings: number[];
  /** the server ended the response (false: we stopped reading) */
  ended: boolean;
}

/**
 * Reads GET /jobs/:id/events as an EventSource would, until the server ends it or `stopAfter`
 * says to hang up (after that event).
 */
async function readEvents(url: string, headers: Record<string, string>, stopAfter?: (event: SseEvent) => boolean, onPing?: () => void): Promise<SseRead> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const read: SseRead = { status: response.status, contentType: response.headers.get('content-type'), events: [], pings: [], ended: false };
  if (response.status !== 200 || !response.body) {
    read.ended = true;
    await response.body?.cancel();
    return read;
  }
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (frame.startsWith(':')) {
          read.pings.push(Date.now());
          onPing?.();
          continue;
        }
        const fields: Record<string, string> = {};
        for (const line of frame.split('\n')) {
          const at = line.indexOf(': ');
          fields[line.slice(0, at)] = line.slice(at + 2);
        }
        const event: SseEvent = { event: fields.event, data: JSON.parse(fields.data), at: Date.now(), ...(fields.id !== undefined ? { id: fields.id } : {}) };
        read.events.push(event);
        if (stopAfter?.(event)) {
          controller.abort();
          return read;
        }
      }
    }
    read.ended = true;
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
  }
  return read;
}

const FINAL = ['completed', 'failed', 'cancelled'];

/** Stream ids "<ms>-<seq>" in strictly increasing order. */
function expectIncreasingIds(ids: string[]): void {
  const asPairs = ids.map((id) => id.split('-').map(BigInt));
  for (let i = 1; i < asPairs.length; i++) {
    const [a, b] = [asPairs[i - 1], asPairs[i]];
    expect(b[0] > a[0] || (b[0] === a[0] && b[1] > a[1])).toBe(true);
  }
}

describe('GET /jobs/:id/events (Server-Sent Events)', () => {
  let worker: RunningProcess;
  let api: RunningProcess;
  let base: string;
  const jfk = readFileSync(JFK_WAV);
  const jfkPcm = readPcm16Wav(jfk);
  /** keeps the single worker busy (25-45 s here, at 40-70x real time) while other jobs wait behind it */
  const long = encodeWav(repeatSpeech(jfkPcm, 1800, 2));
  /** many short VAD chunks decoded one at a time: segments arrive one after another */
  const medium = encodeWav(repeatSpeech(jfkPcm, 60, 2));
  const oneChunkAtATime = { chunk_size: '8', batch_size: '1' };

  const submit = async (audio: Buffer, key = K1, fields: Record<string, string> = {}) => {
    const response = await postTranscribe(base, audio, { async: 'true', ...fields }, 'speech.wav', as(key));
    expect(response.status).toBe(202);
    return response.body.job_id as string;
  };
  const status = async (jobId: string) => (await getJson(`${base}/jobs/${jobId}`, { headers: as(K1) })).body;
  const whenActive = (jobId: string) => waitFor(`job ${jobId} active`, async () => ((await status(jobId)).status === 'active' ? true : undefined), 60_000);
  const whenEnded = (jobId: string) =>
    waitFor(`job ${jobId} to end`, async () => {
      const view = await status(jobId);
      return ['completed', 'failed', 'cancelled'].includes(view.status) ? view : undefined;
    }, 240_000, 500);
  const eventsUrl = (jobId: string) => `${base}/jobs/${jobId}/events`;

  beforeAll(async () => {
    await prepareRedis();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    worker = startWorker({ WHISPER_MODEL: 'synthetic-micro', WORKER_CONCURRENCY: '1' });
    api = startApi(port, { WHISPER_MODEL: 'synthetic-micro', API_KEYS: `${K1},${K2}` });
    // with API_KEYS, /health lists workers to a key only
    await waitFor('a healthy worker', async () => {
      const response = await getJson(`${base}/health`, { headers: as(K1) });
      return response.body?.workers?.length ? true : undefined;
    }, 90_000);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
  });

  it('queued (with its place) → active → segments → one completed, in order, for a job waiting behind a busy worker; a reconnect with Last-Event-ID gets the rest once', async () => {
    const busy = await submit(long);
    await whenActive(busy);
    const jobId = await submit(medium, K1, oneChunkAtATime);
    const started = Date.now();
    // a third job waits behind both: its place is recomputed as the line moves (2, then 1)
    const third = await submit(jfk);
    const thirdRead = readEvents(eventsUrl(third), as(K1));

    // first connection: hang up after the first segment. Once it has had a heartbeat while waiting,
    // the busy job is cancelled so this one starts
    let busyCancelled: Promise<Response> | undefined;
    const cancelBusy = () => (busyCancelled ??= fetch(`${base}/jobs/${busy}`, { method: 'DELETE', headers: as(K1) }));
    const first = await readEvents(eventsUrl(jobId), as(K1), (event) => event.event === 'segment', cancelBusy);
    expect((await busyCancelled)?.status).toBe(200);
    expect(first.status).toBe(200);
    expect(first.contentType).toMatch(/^text\/event-stream/);
    const names = first.events.map((event) => event.event);
    expect(names[0]).toBe('queued');
    expect(first.events[0].data.position).toBeGreaterThanOrEqual(1);
    // queued events only while it waited, then active before the first segment
    const firstActive = names.indexOf('active');
    expect(firstActive).toBeGreaterThan(0);
    expect(names.slice(0, firstActive).every((name) => name === 'queued')).toBe(true);
    expect(names[names.length - 1]).toBe('segment');
    expect(first.events.filter((event) => event.event === 'queued').every((event) => event.id === undefined)).toBe(true);
    for (const event of first.events.filter((e) => e.event === 'active')) {
      expect(event.data).toEqual({ stage: expect.any(String), percent: expect.any(Number) });
      expect(event.id).toMatch(/^\d+-\d+$/);
    }
    // the busy job was still running when this job said it waited: it is the one ahead
    const waited = first.events.find((event) => event.event === 'active')!.at - started;
    console.log(`waited ${waited} ms behind the busy job; first segment after ${first.events[first.events.length - 1].at - started} ms`);

    // reconnect after the first segment: the rest, from the next event on
    const lastSeen = first.events[first.events.length - 1].id!;
    const rest = await readEvents(eventsUrl(jobId), { ...as(K1), 'last-event-id': lastSeen });
    expect(rest.status).toBe(200);
    expect(rest.ended).toBe(true);
    const restNames = rest.events.map((event) => event.event);
    expect(restNames[restNames.length - 1]).toBe('completed');
    expect(restNames.filter((name) => FINAL.includes(name))).toEqual(['completed']);
    expect(restNames).not.toContain('queued');
    const idsSeen = [...first.events, ...rest.events].filter((event) => event.id).map((event) => event.id!);
    expect(new Set(idsSeen).size).toBe(idsSeen.length);
    expectIncreasingIds(idsSeen);

    // completed carries the job view with its result; the segments streamed are the result's, each once, in order
    const completed = rest.events[rest.events.length - 1];
    expect(completed.data).toMatchObject({ job_id: jobId, status: 'completed', progress: 100, stage: 'done' });
    const result = completed.data.result;
    expect(result.segments.length).toBeGreaterThan(1);
    const streamed = [...first.events, ...rest.events].filter((event) => event.event === 'segment').map((event) => event.data);
    expect(streamed).toEqual(result.segments.map((s: any) => ({ index: s.id, start: s.start, end: s.end, text: s.text })));
    // segments arrived as they were decoded: the first well before the end
    const firstSegmentAt = first.events[first.events.length - 1].at;
    console.log([...first.events, ...rest.events].map((event) => `${event.at - started} ms ${event.event} ${JSON.stringify(event.data).slice(0, 60)}`).join('\n'));
    console.log(`first segment ${completed.at - firstSegmentAt} ms before completed (${result.segments.length} segments)`);
    expect(completed.at - firstSegmentAt).toBeGreaterThan(200);

    // replayed from the start (job ended): the same stream events, ids and order, without queued
    const replay = await readEvents(eventsUrl(jobId), as(K1));
    expect(replay.ended).toBe(true);
    expect(replay.events.map((event) => [event.id, event.event])).toEqual(
      [...first.events, ...rest.events].filter((event) => event.event !== 'queued').map((event) => [event.id, event.event]),
    );
    // the same resume through ?last_event_id= (EventSource polyfills cannot set the header)
    const viaQuery = await readEvents(`${eventsUrl(jobId)}?last_event_id=${encodeURIComponent(lastSeen)}`, as(K1));
    expect(viaQuery.events.map((event) => event.id)).toEqual(rest.events.map((event) => event.id));
    // after the final event there is nothing more: 204 (EventSource stops reconnecting)
    const after = await fetch(eventsUrl(jobId), { headers: { ...as(K1), 'last-event-id': completed.id! } });
    expect(after.status).toBe(204);

    // while it waited (longer than a heartbeat) the connection had a `: ping` within ~15 s
    expect(first.pings.length).toBeGreaterThan(0);
    expect(first.pings[0]).toBeLessThan(first.events[firstActive].at);
    const writes = [started, ...first.events.map((event) => event.at), ...first.pings].sort((a, b) => a - b);
    const longestSilence = Math.max(...writes.slice(1).map((at, i) => at - writes[i]));
    console.log(`longest silence on the first connection: ${longestSilence} ms (${first.pings.length} pings)`);
    expect(longestSilence).toBeLessThan(15_000 + 2_000 + 1_000);

    // the third job: places 2 then 1, then it ran to completion
    const thirdEvents = (await thirdRead).events;
    const places = thirdEvents.filter((event) => event.event === 'queued').map((event) => event.data.position);
    expect(places).toEqual([2, 1]);
    const thirdNames = thirdEvents.map((event) => event.event);
    expect(thirdNames.indexOf('active')).toBe(2);
    expect(thirdNames.slice(2, -1).every((name) => name === 'active' || name === 'segment')).toBe(true);
    expect(thirdNames).toContain('segment');
    expect(thirdNames[thirdNames.length - 1]).toBe('completed');

    await whenEnded(busy);
  }, 400_000);

  it('an API process that shuts down ends its open streams at once; another API process resumes from Last-Event-ID (events travel through Redis)', async () => {
    const port = await freePort();
    const second = startApi(port, { WHISPER_MODEL: 'synthetic-micro', API_KEYS: `${K1},${K2}` });
    const secondBase = `http://127.0.0.1:${port}`;
    await waitFor('the second API', async () => ((await getJson(`${secondBase}/health/live`)).status === 200 ? true : undefined), 60_000);
    const jobId = await submit(encodeWav(repeatSpeech(jfkPcm, 150, 2)), K1, oneChunkAtATime);
    let stopping: { at: number; done: Promise<void> } | undefined;
    const cut = await readEvents(`${secondBase}/jobs/${jobId}/events`, as(K1), (event) => {
      if (event.event === 'segment' && !stopping) stopping = { at: Date.now(), done: second.stop('SIGTERM') };
      return false;
    });
    expect(stopping).toBeDefined();
    await stopping!.done;
    const exitedIn = Date.now() - stopping!.at;
    if (second.child.signalCode === 'SIGKILL') console.log(second.output().slice(-3000));
    console.log(`the API with an open stream exited ${exitedIn} ms after SIGTERM (${second.child.signalCode ?? `code ${second.child.exitCode}`})`);
    // ended by the server before the job did, not by the harness's SIGKILL
    expect(cut.ended).toBe(true);
    expect(second.child.signalCode).not.toBe('SIGKILL');
    expect(exitedIn).toBeLessThan(10_000);
    const seen = cut.events.filter((event) => event.id);
    expect(seen.some((event) => FINAL.includes(event.event))).toBe(false);

    const rest = await readEvents(eventsUrl(jobId), { ...as(K1), 'last-event-id': seen[seen.length - 1].id! });
    expect(rest.events[rest.events.length - 1].event).toBe('completed');
    const ids = [...seen, ...rest.events].map((event) => event.id!);
    expect(new Set(ids).size).toBe(ids.length);
    expectIncreasingIds(ids);
    const segments = [...seen, ...rest.events].filter((event) => event.event === 'segment').map((event) => event.data.index);
    expect(segments).toEqual(rest.events[rest.events.length - 1].data.result.segments.map((segment: any) => segment.id));
  }, 180_000);

  it("another key's job is 404 (as GET /jobs/:id); an unknown job 404; a malformed Last-Event-ID 400", async () => {
    const jobId = await submit(jfk);
    const other = await fetch(eventsUrl(jobId), { headers: as(K2) });
    expect(other.status).toBe(404);
    expect(((await other.json()) as any).error.code).toBe('job_not_found');
    expect((await fetch(eventsUrl(jobId))).status).toBe(401);
    expect((await fetch(`${base}/jobs/0b8e7a52-5f4c-4b7e-9d1a-2c3f4e5a6b7c/events`, { headers: as(K1) })).status).toBe(404);
    const bad = await fetch(eventsUrl(jobId), { headers: { ...as(K1), 'last-event-id': 'yesterday' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error).toMatchObject({ code: 'validation_failed', field: 'Last-Event-ID' });
    const badQuery = await fetch(`${eventsUrl(jobId)}?last_event_id=12`, { headers: as(K1) });
    expect(((await badQuery.json()) as any).error).toMatchObject({ code: 'validation_failed', field: 'last_event_id' });
    // the admin token is not set here; the owner reads it to its end
    const own = await readEvents(eventsUrl(jobId), as(K1));
    expect(own.events[own.events.length - 1].event).toBe('completed');
  }, 120_000);

  it('corrupt audio: the stream ends with one failed event carrying the error body', async () => {
    const corrupt = Buffer.concat([Buffer.from('RIFF'), randomBytes(4096)]);
    const jobId = await submit(corrupt);
    const read = await readEvents(eventsUrl(jobId), as(K1));
    expect(read.ended).toBe(true);
    const last = read.events[read.events.length - 1];
    expect(read.events.filter((event) => FINAL.includes(event.event))).toHaveLength(1);
    expect(last.event).toBe('failed');
    expect(Object.keys(last.data)).toEqual(['error']);
    expect(last.data.error).toMatchObject({ code: expect.stringMatching(/^(invalid_audio|unsupported_media)$/), message: expect.any(String) });
    expect(last.data.error).toEqual((await status(jobId)).error);
    expect(read.events.some((event) => event.event === 'segment')).toBe(false);
  }, 120_000);

  it('DELETE of a queued job ends its stream with cancelled (written by the API: the worker never sees that job); of a running one too (written by its worker)', async () => {
    const busy = await submit(long);
    await whenActive(busy);
    const jobId = await submit(jfk);
    let deleted: Promise<number> | undefined;
    const read = await readEvents(eventsUrl(jobId), as(K1), (event) => {
      // cancel once the stream has said the job waits
      if (event.event === 'queued' && !deleted) deleted = fetch(`${base}/jobs/${jobId}`, { method: 'DELETE', headers: as(K1) }).then((response) => response.status);
      return false;
    });
    expect(await deleted).toBe(200);
    expect(read.ended).toBe(true);
    expect(read.events.map((event) => event.event)).toEqual([...read.events.slice(0, -1).map(() => 'queued'), 'cancelled']);
    const cancelled = read.events[read.events.length - 1];
    expect(cancelled.id).toMatch(/^\d+-\d+$/);
    expect(cancelled.data).toEqual({ error: { code: 'job_cancelled', message: expect.any(String) } });
    // a late reader gets the same end from the stream, and nothing after it
    const late = await readEvents(eventsUrl(jobId), as(K1));
    expect(late.events.map((event) => [event.event, event.id])).toEqual([['cancelled', cancelled.id]]);
    expect((await fetch(eventsUrl(jobId), { headers: { ...as(K1), 'last-event-id': cancelled.id! } })).status).toBe(204);
    // the busy job was left alone; cancelled while it runs, its worker ends its stream with cancelled
    expect((await status(busy)).status).toBe('active');
    const running = readEvents(eventsUrl(busy), as(K1));
    expect((await fetch(`${base}/jobs/${busy}`, { method: 'DELETE', headers: as(K1) })).status).toBe(200);
    const busyEvents = (await running).events;
    expect(busyEvents[0].event).toBe('active');
    expect(busyEvents.filter((event) => FINAL.includes(event.event)).map((event) => event.event)).toEqual(['cancelled']);
    expect(busyEvents[busyEvents.length - 1].data.error.code).toBe('job_cancelled');
  }, 240_000);

  it("a job whose stream expired: its final state from the job's status, with the id 'final' (a reconnect with it gets 204)", async () => {
    const jobId = await submit(jfk);
    const view = await whenEnded(jobId);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      expect(await redis.del(jobEventsKey(jobId))).toBe(1);
    } finally {
      await redis.quit();
    }
    const read = await readEvents(eventsUrl(jobId), as(K1));
    expect(read.ended).toBe(true);
    expect(read.events.map((event) => [event.event, event.id])).toEqual([['completed', 'final']]);
    expect(read.events[0].data).toEqual(view);
    expect((await fetch(eventsUrl(jobId), { headers: { ...as(K1), 'last-event-id': 'final' } })).status).toBe(204);
  }, 120_000);
});
