/**
 * Audio by URL (issue 14 item 4): `audio_url` instead of `file` on POST /transcribe and
 * /detect-language. A local HTTP server on 127.0.0.1 (the one host OUTBOUND_ALLOWED_HOSTS lists)
 * serves the JFK sample; the worker downloads it as a stream. Transcription by URL equals
 * transcription by upload; a redirect chain within the allowed host works; a redirect to a refused
 * host (cloud metadata, a loopback alias not listed) fails the job with audio_url_refused; a 404
 * fails it with the upstream status; a body over MAX_UPLOAD_MB fails with upload_too_large and the
 * server sees its connection closed long before it sent everything; a stalled server fails with
 * audio_url_timeout; the SSRF check and exactly-one-of file/audio_url give 400s at submission.
 * No log line holds a URL's query (signed URLs carry secrets there).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { JFK_WAV } from '../support/samples';
import { freePort, getJson, postTranscribe, prepareRedis, RunningProcess, startApi, startWorker, waitFor, waitForHealthy } from '../support/service-harness';

const SECRET_QUERY = 'X-Amz-Signature=d0n7-l0g-m3';
const MAX_UPLOAD_MB = 1;
const HUGE_BYTES = 64 * 1024 * 1024;
const STALL_S = 2;

interface HugeServe {
  sent: number;
  closedEarly: boolean;
  done: Promise<void>;
}

describe('audio by URL: streamed by the worker under the SSRF guard, with size, time and redirect limits', () => {
  let audioServer: http.Server;
  let audioBase: string;
  let audioPort: number;
  const requested: string[] = [];
  let huge: HugeServe | undefined;
  let worker: RunningProcess;
  let api: RunningProcess;
  let base: string;
  const jfk = readFileSync(JFK_WAV);

  beforeAll(async () => {
    audioServer = http.createServer((req, res) => {
      const path = req.url ?? '/';
      requested.push(path);
      const route = path.split('?')[0];
      if (route === '/jfk.wav') return res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(jfk.length) }).end(jfk);
      if (route === '/hop1') return res.writeHead(302, { location: '/hop2' }).end();
      if (route === '/hop2') return res.writeHead(307, { location: `${audioBase}/jfk.wav?${SECRET_QUERY}` }).end();
      if (route === '/to-metadata') return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      if (route === '/to-alias') return res.writeHead(302, { location: `http://127.0.0.2:${audioPort}/jfk.wav` }).end();
      if (route === '/huge.wav') return serveHuge(res);
      if (route === '/stall.wav') {
        // the header and a few bytes, then nothing (the connection stays open)
        res.writeHead(200, { 'content-type': 'audio/wav' });
        return res.write(jfk.subarray(0, 4096));
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
    });
    await new Promise<void>((resolve) => audioServer.listen(0, '127.0.0.1', resolve));
    audioPort = (audioServer.address() as AddressInfo).port;
    audioBase = `http://127.0.0.1:${audioPort}`;

    await prepareRedis();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = { WHISPER_MODEL: 'synthetic-micro', OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', MAX_UPLOAD_MB: String(MAX_UPLOAD_MB), AUDIO_URL_STALL_S: String(STALL_S) };
    worker = startWorker(env);
    api = startApi(port, env);
    await waitForHealthy(base, 1);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    audioServer.closeAllConnections();
    await new Promise<void>((resolve) => audioServer.close(() => resolve()));
  });

  /**
   * 64 MB of a WAV-looking body, chunked (no Content-Length: only the streamed count can stop it),
   * written as fast as the connection takes it (on 'drain'): `sent` counts what the socket accepted.
   */
  function serveHuge(res: http.ServerResponse): void {
    const state: HugeServe = { sent: 0, closedEarly: false, done: Promise.resolve() };
    state.done = new Promise<void>((resolve) => {
      res.writeHead(200, { 'content-type': 'audio/wav' });
      const piece = Buffer.alloc(64 * 1024, 1);
      let closed = false;
      const pump = () => {
        while (!closed && state.sent < HUGE_BYTES) {
          state.sent += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        if (!closed) res.end(() => resolve());
      };
      res.on('close', () => {
        closed = true;
        state.closedEarly = !res.writableFinished;
        resolve();
      });
      pump();
    });
    huge = state;
  }

  async function failedJob(audioUrl: string): Promise<{ code: string; message: string; field?: string }> {
    const accepted = await postTranscribe(base, undefined, { audio_url: audioUrl, async: 'true' });
    expect(accepted.status).toBe(202);
    const view = await waitFor(
      `job ${accepted.body.job_id} to fail`,
      async () => {
        const { body } = await getJson(`${base}/jobs/${accepted.body.job_id}`);
        return body?.status === 'failed' ? body : undefined;
      },
      60_000,
    );
    return view.error;
  }

  it('transcribes by URL exactly as by upload (same text, same segments)', async () => {
    const byUpload = await postTranscribe(base, jfk, { temperature: '0' }, 'jfk.wav');
    expect(byUpload.status).toBe(200);
    const byUrl = await postTranscribe(base, undefined, { temperature: '0', audio_url: `${audioBase}/jfk.wav?${SECRET_QUERY}` });
    expect(byUrl.status).toBe(200);
    expect(byUrl.body.text).toBe(byUpload.body.text);
    expect(byUrl.body.text.length).toBeGreaterThan(0);
    expect(byUrl.body.segments).toEqual(byUpload.body.segments);
    expect(byUrl.body.duration).toBe(byUpload.body.duration);
    expect(requested).toContain(`/jfk.wav?${SECRET_QUERY}`);
  }, 120_000);

  it('follows a redirect chain within the allowed host, each hop checked', async () => {
    requested.length = 0;
    const direct = await postTranscribe(base, jfk, { temperature: '0' }, 'jfk.wav');
    const viaRedirects = await postTranscribe(base, undefined, { temperature: '0', audio_url: `${audioBase}/hop1` });
    expect(viaRedirects.status).toBe(200);
    expect(viaRedirects.body.text).toBe(direct.body.text);
    expect(requested).toEqual(['/hop1', '/hop2', `/jfk.wav?${SECRET_QUERY}`]);
  }, 120_000);

  it('detects the language by URL as by upload (POST /detect-language)', async () => {
    const form = (fields: Record<string, string>, file?: Buffer) => {
      const body = new FormData();
      if (file) body.append('file', new Blob([file]), 'jfk.wav');
      for (const [name, value] of Object.entries(fields)) body.append(name, value);
      return fetch(`${base}/detect-language`, { method: 'POST', body }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    };
    const byUpload = await form({}, jfk);
    const byUrl = await form({ audio_url: `${audioBase}/jfk.wav` });
    expect(byUpload.status).toBe(200);
    expect(byUrl.status).toBe(200);
    expect(byUrl.body.languages).toEqual(byUpload.body.languages);
    const both = await form({ audio_url: `${audioBase}/jfk.wav` }, jfk);
    expect(both.status).toBe(400);
    expect(both.body.error).toMatchObject({ code: 'validation_failed', field: 'audio_url' });
  }, 120_000);

  it.each([
    ['cloud metadata', '/to-metadata', /cloud metadata/],
    ['a loopback alias not on the allow list', '/to-alias', /loopback/],
  ])('a redirect to %s fails the job with audio_url_refused, nothing fetched there', async (_what, path, message) => {
    const error = await failedJob(`${audioBase}${path}`);
    expect(error).toMatchObject({ code: 'audio_url_refused', field: 'audio_url' });
    expect(error.message).toMatch(message);
  }, 90_000);

  it('a 404 fails the job with audio_url_unreachable and the upstream status', async () => {
    const error = await failedJob(`${audioBase}/missing.wav?${SECRET_QUERY}`);
    expect(error).toMatchObject({ code: 'audio_url_unreachable', field: 'audio_url' });
    expect(error.message).toContain('HTTP 404');
    expect(error.message).toContain(`${audioBase}/missing.wav`);
    expect(error.message).not.toContain(SECRET_QUERY);
  }, 90_000);

  it('a body over MAX_UPLOAD_MB fails with upload_too_large (413) and the download stops early', async () => {
    huge = undefined;
    const error = await failedJob(`${audioBase}/huge.wav`);
    expect(error).toMatchObject({ code: 'upload_too_large', field: 'audio_url' });
    const served = huge as HugeServe | undefined;
    expect(served).toBeDefined();
    await served!.done;
    expect(served!.closedEarly).toBe(true);
    // the worker stopped at the limit: past its 1 MB only what loopback socket buffers hold (a few MB) left the server
    expect(served!.sent).toBeLessThan(16 * 1024 * 1024);
    console.log(`huge body: the server sent ${(served!.sent / 1024 / 1024).toFixed(2)} MB of ${HUGE_BYTES / 1024 / 1024} MB before the worker closed the connection`);
    // a synchronous request answers with the code's HTTP status
    const sync = await postTranscribe(base, undefined, { audio_url: `${audioBase}/huge.wav` });
    expect(sync.status).toBe(413);
    expect(sync.body.error).toMatchObject({ code: 'upload_too_large', field: 'audio_url' });
  }, 90_000);

  it('a server that stops sending fails the job with audio_url_timeout after AUDIO_URL_STALL_S', async () => {
    const started = Date.now();
    const error = await failedJob(`${audioBase}/stall.wav`);
    expect(error).toMatchObject({ code: 'audio_url_timeout', field: 'audio_url' });
    expect(error.message).toMatch(/stalled/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(STALL_S * 1000 - 200);
  }, 90_000);

  it.each([
    ['http://10.0.0.1/x.wav', 'http://10.0.0.1/x.wav', /private/],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/', /cloud metadata/],
    ['127.0.0.2 (a loopback alias not listed)', 'http://127.0.0.2:1/x.wav', /loopback/],
    ['ftp://', 'ftp://example.com/a.wav', /http\(s\) URL/],
    ['a URL over 2048 characters', `https://example.com/${'a'.repeat(2048)}`, /2048/],
  ])('audio_url=%s → 400 at submission on field audio_url', async (_label, url, message) => {
    const response = await postTranscribe(base, undefined, { audio_url: url, async: 'true' });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'validation_failed', field: 'audio_url' });
    expect(response.body.error.message).toMatch(message);
  });

  it('both file and audio_url → 400 on audio_url; neither → 400 missing_file', async () => {
    const both = await postTranscribe(base, jfk, { audio_url: `${audioBase}/jfk.wav`, async: 'true' });
    expect(both.status).toBe(400);
    expect(both.body.error).toMatchObject({ code: 'validation_failed', field: 'audio_url' });
    const neither = await postTranscribe(base, undefined, { async: 'true' });
    expect(neither.status).toBe(400);
    expect(neither.body.error).toMatchObject({ code: 'missing_file', field: 'file' });
    expect(neither.body.error.message).toContain('audio_url');
  });

  it('no log line of the API or the worker holds a URL query', () => {
    expect(api.output()).not.toContain(SECRET_QUERY);
    expect(worker.output()).not.toContain(SECRET_QUERY);
    // the worker does log the downloads, as scheme://host/path
    expect(worker.output()).toContain(`audio_url ${audioBase}/jfk.wav: HTTP 200`);
  });
});
