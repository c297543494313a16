/**
 * Request-scoped structured logs (issue 13, item 4) against the real API and worker: one JSON object
 * per line, a request's X-Request-Id (or a generated UUID) echoed and on the API's lines, the same
 * request_id with job_id on the worker's lines for the job, no API key or Authorization in either
 * log; LOG_FORMAT=pretty gives human lines instead.
 */
import { readFileSync } from 'node:fs';
import { JFK_WAV } from '../support/samples';
import { freePort, getJson, prepareRedis, RunningProcess, startApi, startWorker, waitFor } from '../support/service-harness';

const KEY = 'logging-e2e-secret-key-7f3a9c';
const AUTH = { authorization: `Bearer ${KEY}` };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface LogLine {
  level: string;
  time: string;
  msg: string;
  context?: string;
  request_id?: string;
  job_id?: string;
  [field: string]: unknown;
}

/** Every line of a process's output, each parsed as one JSON object (a line that is not fails the test). */
function logLines(process: RunningProcess): LogLine[] {
  return process.output().split('\n').filter((line) => line.trim() !== '').map((line) => {
    try {
      return JSON.parse(line) as LogLine;
    } catch {
      throw new Error(`${process.name} wrote a line that is not JSON: ${line.slice(0, 300)}`);
    }
  });
}

describe('structured logs with request ids', () => {
  let worker: RunningProcess;
  let api: RunningProcess;
  let base: string;
  const jfk = readFileSync(JFK_WAV);

  beforeAll(async () => {
    await prepareRedis();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // LOG_FORMAT unset: output goes to a pipe, so JSON
    worker = startWorker({ WHISPER_MODEL: 'synthetic-micro' });
    api = startApi(port, { WHISPER_MODEL: 'synthetic-micro', API_KEYS: KEY });
    await waitFor('a healthy worker', async () => {
      const { status, body } = await getJson(`${base}/health`, { headers: AUTH });
      return status === 200 && body?.workers?.length ? true : undefined;
    }, 90_000);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
  });

  it('carries X-Request-Id from the request through the API\'s lines to the worker\'s lines for the job', async () => {
    const response = await fetch(`${base}/transcribe`, { method: 'POST', body: form(jfk), headers: { ...AUTH, 'x-request-id': 'test-req-123' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('test-req-123');
    await response.json();

    // the API: the job's line (after the upload, multer's callback) and the request's own line
    const apiLines = await waitFor('the request\'s closing line', async () => {
      const lines = logLines(api).filter((line) => line.request_id === 'test-req-123');
      return lines.some((line) => line.status === 200) ? lines : undefined;
    }, 10_000);
    const queued = apiLines.find((line) => /^job \S+ queued/.test(line.msg));
    expect(queued).toMatchObject({ level: 'info', context: 'TranscriptionJobsService' });
    const jobId = queued?.job_id;
    expect(jobId).toMatch(UUID);
    expect(queued?.msg).toContain(String(jobId));
    expect(apiLines.find((line) => line.status === 200)).toMatchObject({ method: 'POST', path: '/transcribe', job_id: jobId });

    // the worker: every line about the job carries its job_id and the request's id
    const workerLines = logLines(worker);
    const aboutJob = workerLines.filter((line) => line.msg.includes(String(jobId)));
    expect(aboutJob.map((line) => line.msg)).toContainEqual(expect.stringMatching(new RegExp(`^job ${jobId} done in \\d+ ms`)));
    for (const line of aboutJob) expect(line).toMatchObject({ job_id: jobId, request_id: 'test-req-123' });
    // and every line that has the job's id came from within the job, with the request's id
    const withJobId = workerLines.filter((line) => line.job_id === jobId);
    expect(withJobId.length).toBeGreaterThanOrEqual(aboutJob.length);
    for (const line of withJobId) expect(line.request_id).toBe('test-req-123');
    // worker lines outside any job carry neither
    expect(workerLines.some((line) => line.job_id === undefined && line.request_id === undefined)).toBe(true);
  });

  it('keeps the request id on the lines after an upload that arrives slowly, in many chunks', async () => {
    const body = new Response(form(jfk));
    const bytes = Buffer.from(await body.arrayBuffer());
    const chunks = Array.from({ length: 8 }, (_, i) => bytes.subarray(Math.floor((i * bytes.length) / 8), Math.floor(((i + 1) * bytes.length) / 8)));
    const slowBody = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const chunk = chunks.shift();
        if (!chunk) return controller.close();
        await new Promise((resolve) => setTimeout(resolve, 50));
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${base}/transcribe`, {
      method: 'POST',
      body: slowBody,
      headers: { ...AUTH, 'x-request-id': 'slow-upload-1', 'content-type': body.headers.get('content-type') ?? '' },
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(200);
    await response.json();
    const queued = logLines(api).find((line) => /^job \S+ queued/.test(line.msg) && line.request_id === 'slow-upload-1');
    expect(queued?.job_id).toMatch(UUID);
    const done = logLines(worker).find((line) => line.msg.startsWith(`job ${queued?.job_id} done`));
    expect(done?.request_id).toBe('slow-upload-1');
  });

  it('writes one JSON object per line with level, time, msg and context; no key, no Authorization, no bodies', async () => {
    for (const process of [api, worker]) {
      const lines = logLines(process);
      expect(lines.length).toBeGreaterThan(5);
      for (const line of lines) {
        expect(typeof line.msg).toBe('string');
        expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(line.level);
        expect(Number.isNaN(Date.parse(line.time))).toBe(false);
      }
      // Nest's own lines and our services' keep their context
      expect(lines.filter((line) => typeof line.context === 'string').length).toBeGreaterThan(3);
      const output = process.output();
      expect(output).not.toContain(KEY);
      expect(output).not.toMatch(/bearer|authorization/i);
      // no audio: a line stays short (the upload is ~350 KB)
      expect(Math.max(...output.split('\n').map((line) => line.length))).toBeLessThan(8_000);
    }
    // the existing messages are still there for whoever greps them
    expect(api.output()).toMatch(/Mapped \{\/transcribe, POST\} route/);
    expect(api.output()).toMatch(/listening on 127\.0\.0\.1:\d+/);
  });

  it('replaces an X-Request-Id that is not sane with a UUID, and makes one up when none comes', async () => {
    const odd = 'no spaces allowed"}{';
    const tooLong = 'a'.repeat(129);
    for (const sent of [odd, tooLong, undefined]) {
      const response = await fetch(`${base}/jobs/00000000-0000-4000-8000-000000000000`, { headers: { ...AUTH, ...(sent ? { 'x-request-id': sent } : {}) } });
      expect(response.status).toBe(404);
      // RATE_LIMIT_PER_MIN unset: no limit, no limit headers
      expect(response.headers.get('x-ratelimit-limit')).toBeNull();
      const id = response.headers.get('x-request-id');
      expect(id).toMatch(UUID);
      const line = await waitFor('the request\'s line', async () => logLines(api).find((entry) => entry.request_id === id), 10_000);
      expect(line).toMatchObject({ method: 'GET', status: 404, level: 'info' });
      if (sent) expect(api.output()).not.toContain(sent);
    }
    // the longest sane id passes as it came
    const longest = `${'x'.repeat(120)}.:_-1234`;
    const response = await fetch(`${base}/health/live`, { headers: { 'x-request-id': longest } });
    expect(response.headers.get('x-request-id')).toBe(longest);
  });

  it('gives an async job\'s worker lines the generated id the API answered with', async () => {
    const response = await fetch(`${base}/transcribe`, { method: 'POST', body: form(jfk, { async: 'true' }), headers: AUTH });
    expect(response.status).toBe(202);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(UUID);
    const { job_id: jobId } = (await response.json()) as { job_id: string };
    await waitFor('the job to finish', async () => {
      const { body } = await getJson(`${base}/jobs/${jobId}`, { headers: AUTH });
      return body?.status === 'completed' ? true : undefined;
    }, 60_000);
    const done = await waitFor('the worker\'s done line', async () => logLines(worker).find((line) => line.msg.startsWith(`job ${jobId} done`)), 10_000);
    expect(done).toMatchObject({ job_id: jobId, request_id: requestId, level: 'info', context: 'TranscriptionProcessor' });
    // the API's lines about the job carry its id too: the status request's closing line
    const status = await fetch(`${base}/jobs/${jobId}`, { headers: { ...AUTH, 'x-request-id': 'status-read-1' } });
    expect(status.status).toBe(200);
    await status.json();
    const statusLine = await waitFor('the status request\'s line', async () => logLines(api).find((line) => line.request_id === 'status-read-1' && line.status === 200), 10_000);
    expect(statusLine).toMatchObject({ job_id: jobId, method: 'GET', path: `/jobs/${jobId}` });
  });

  it('writes pretty lines with LOG_FORMAT=pretty (and JSON again with LOG_FORMAT=json)', async () => {
    const prettyPort = await freePort();
    const jsonPort = await freePort();
    const pretty = startApi(prettyPort, { WHISPER_MODEL: 'synthetic-micro', LOG_FORMAT: 'pretty' });
    const json = startApi(jsonPort, { WHISPER_MODEL: 'synthetic-micro', LOG_FORMAT: 'json', LOG_LEVEL: 'warn' });
    try {
      await waitFor('the pretty API', async () => (pretty.output().includes('listening on') ? true : undefined), 60_000);
      const line = pretty.output().split('\n').find((entry) => entry.includes('listening on')) ?? '';
      expect(line).toMatch(/INFO.*\[API\] listening on 127\.0\.0\.1:\d+/);
      expect(() => JSON.parse(line)).toThrow();
      // LOG_LEVEL=warn: the info lines are gone, what is there is JSON
      await waitFor('the JSON API', async () => ((await fetch(`http://127.0.0.1:${jsonPort}/health/live`).catch(() => undefined))?.ok ? true : undefined), 60_000);
      expect(json.output()).not.toContain('listening on');
      expect(() => logLines(json)).not.toThrow();
    } finally {
      await Promise.all([pretty.stop(), json.stop()]);
    }
  });

  it('stops with the variable\'s name on a bad LOG_LEVEL, written as a JSON line', async () => {
    const bad = startApi(await freePort(), { LOG_LEVEL: 'chatty' });
    const code = bad.child.exitCode ?? (await new Promise<number | null>((resolve) => bad.child.once('exit', resolve)));
    expect(code).toBe(1);
    const lines = logLines(bad);
    expect(lines.find((line) => line.level === 'error')?.msg).toMatch(/Invalid environment variable LOG_LEVEL/);
  });
});

function form(audio: Buffer, fields: Record<string, string> = {}): FormData {
  const body = new FormData();
  body.append('file', new Blob([audio]), 'jfk.wav');
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  return body;
}
