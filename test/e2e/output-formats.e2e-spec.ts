/**
 * Output formats end to end (issue 12, item 2): response_format on POST /transcribe and GET
 * /jobs/:id/result?format=…, headers, subtitles parsed back, speaker labels from a diarized job,
 * and ffmpeg as a real subtitle consumer reading what we wrote.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { languageName } from '@app/contracts';
import { JFK_WAV } from '../support/samples';
import { getJson, postTranscribe, ServiceStack, startStack, waitFor } from '../support/service-harness';
import { makeConversationScript, synthesizeConversation } from '../support/synthetic-conversation';
import { expectOrdered, parseCues } from '../support/subtitles';
import { encodeWav } from '../support/wav';

async function fetchText(url: string) {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const FORMATS = {
  json: { type: /^application\/json; charset=utf-8$/, ext: 'json' },
  verbose_json: { type: /^application\/json; charset=utf-8$/, ext: 'json' },
  text: { type: /^text\/plain; charset=utf-8$/, ext: 'txt' },
  srt: { type: /^application\/x-subrip; charset=utf-8$/, ext: 'srt' },
  vtt: { type: /^text\/vtt; charset=utf-8$/, ext: 'vtt' },
  tsv: { type: /^text\/tab-separated-values; charset=utf-8$/, ext: 'tsv' },
} as const;

describe('output formats end to end', () => {
  let stack: ServiceStack;
  let base: string;
  const jfk = readFileSync(JFK_WAV);
  let json: any;
  let jobId: string;
  const dir = mkdtempSync(join(tmpdir(), 'formats-e2e-'));

  beforeAll(async () => {
    stack = await startStack({ WHISPER_MODEL: 'synthetic-micro' }, { WHISPER_MODEL: 'synthetic-micro' });
    base = stack.base;
    const accepted = await postTranscribe(base, jfk, { async: 'true' }, 'JFK speech.wav');
    expect(accepted.status).toBe(202);
    jobId = accepted.body.job_id;
    const done = await waitFor('job completion', async () => {
      const { body } = await getJson(`${base}/jobs/${jobId}`);
      return body.status === 'completed' || body.status === 'failed' ? body : undefined;
    });
    expect(done.status).toBe('completed');
    json = done.result;
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await stack?.stop();
  });

  it('POST /transcribe answers in each response_format with its Content-Type; json stays the default', async () => {
    const plain = await fetch(`${base}/transcribe`, { method: 'POST', body: form(jfk, {}) });
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
    expect(plain.headers.get('content-disposition')).toBeNull();
    expect(plain.headers.get('cache-control')).toBe('no-store');
    const body = (await plain.json()) as any;
    expect(typeof body.text).toBe('string');
    expect(body.segments.length).toBeGreaterThan(0);
    for (const [format, expected] of Object.entries(FORMATS)) {
      const response = await fetch(`${base}/transcribe`, { method: 'POST', body: form(jfk, { response_format: format }, 'talk.mp3.wav') });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(expected.type);
      expect(response.headers.get('content-disposition')).toBe(`attachment; filename="talk.mp3.${expected.ext}"`);
      const text = await response.text();
      if (format === 'srt' || format === 'vtt') expect(parseCues(text).length).toBe(body.segments.filter((s: any) => s.text.trim()).length);
      if (format === 'text') expect(text.trim().split('\n').join(' ')).toBe(body.text);
      if (format === 'verbose_json') expect(JSON.parse(text)).toMatchObject({ task: 'transcribe', language: languageName(body.language), text: body.text });
    }
  });

  it('a non-ASCII upload name reaches Content-Disposition as RFC 6266 filename*', async () => {
    const response = await fetch(`${base}/transcribe`, { method: 'POST', body: form(jfk, { response_format: 'srt' }, 'réunion "été".wav') });
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="r_union _t_.srt"; filename*=UTF-8''r%C3%A9union%20%C3%A9t%C3%A9.srt`);
  });

  it('a 202 stays JSON whatever the format', async () => {
    const accepted = await postTranscribe(base, jfk, { async: 'true', response_format: 'srt' });
    expect(accepted.status).toBe(202);
    expect(accepted.body.status).toBe('queued');
  });

  it('GET /jobs/:id/result writes each format, named after the upload', async () => {
    for (const [format, expected] of Object.entries(FORMATS)) {
      const { status, headers, text } = await fetchText(`${base}/jobs/${jobId}/result?format=${format}`);
      expect(status).toBe(200);
      expect(headers.get('content-type')).toMatch(expected.type);
      expect(headers.get('content-disposition')).toBe(`attachment; filename="JFK speech.${expected.ext}"`);
      expect(headers.get('cache-control')).toBe('no-store');
      if (format === 'json') expect(JSON.parse(text)).toEqual({ ...json, text: json.segments.map((s: any) => s.text.trim()).filter(Boolean).join(' ') });
      if (format === 'tsv') expect(text.split('\n')[0]).toBe('start\tend\ttext');
    }
    // default: json
    const plain = await fetchText(`${base}/jobs/${jobId}/result`);
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('SRT and VTT parse back: times of the segments, text of the words, lines within max_line_width', async () => {
    const srt = await fetchText(`${base}/jobs/${jobId}/result?format=srt&max_line_width=20&max_line_count=2`);
    const cues = parseCues(srt.text);
    expectOrdered(cues);
    const words = json.segments.flatMap((s: any) => s.words.map((w: any) => w.word.trim()).filter(Boolean).flatMap((w: string) => w.split(/\s+/)));
    expect(cues.flatMap((cue) => cue.lines.join(' ').split(' '))).toEqual(words);
    for (const cue of cues) {
      expect(cue.lines.length).toBeLessThanOrEqual(2);
      for (const line of cue.lines) if (line.includes(' ')) expect([...line].length).toBeLessThanOrEqual(20);
    }
    const vtt = await fetchText(`${base}/jobs/${jobId}/result?format=vtt`);
    expect(vtt.text.startsWith('WEBVTT\n\n')).toBe(true);
    const segments = json.segments.filter((s: any) => s.text.trim());
    expect(parseCues(vtt.text).map((c) => [c.start, c.end])).toEqual(segments.map((s: any) => [s.start, s.end]));
    const karaoke = parseCues((await fetchText(`${base}/jobs/${jobId}/result?format=vtt&highlight_words=true`)).text);
    expectOrdered(karaoke);
    expect(karaoke.some((cue) => cue.lines.join(' ').includes('<u>'))).toBe(true);
  });

  it('ffmpeg reads our SRT and VTT and keeps every cue and time', async () => {
    for (const [format, other] of [
      ['srt', 'webvtt'],
      ['vtt', 'srt'],
    ] as const) {
      const written = (await fetchText(`${base}/jobs/${jobId}/result?format=${format}&max_line_width=24&max_line_count=1`)).text;
      const file = join(dir, `out.${format}`);
      writeFileSync(file, written);
      const converted = execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-f', other, '-'], { encoding: 'utf8' });
      const ours = parseCues(written);
      const theirs = parseCues(converted);
      expect(ours.length).toBeGreaterThan(1);
      expect(theirs.map((c) => [c.start, c.end])).toEqual(ours.map((c) => [c.start, c.end]));
      expect(theirs.map((c) => c.lines.join(' '))).toEqual(ours.map((c) => c.lines.join(' ')));
    }
  });

  it('speaker labels when diarized: [SPEAKER_xx] in srt, text and tsv, <v SPEAKER_xx> in vtt', async () => {
    const script = makeConversationScript({ speakers: 2, seconds: 30, seed: 21 });
    const wav = encodeWav(synthesizeConversation({ speakers: 2, turns: script, seed: 21 }).pcm);
    const fields = { diarize: 'true', min_speakers: '2', max_speakers: '2', allowed_languages: 'en', vad: 'false' };
    const srt = await postTranscribe(base, wav, { ...fields, response_format: 'srt' });
    expect(srt.status).toBe(200);
    const cues = parseCues(srt.body);
    expectOrdered(cues);
    expect(cues.length).toBeGreaterThan(0);
    for (const cue of cues) expect(cue.lines[0]).toMatch(/^\[SPEAKER_0[01]\] /);
    expect(new Set(cues.map((c) => c.lines[0].slice(0, 12))).size).toBe(2);
    const vtt = await postTranscribe(base, wav, { ...fields, response_format: 'vtt' });
    for (const cue of parseCues(vtt.body)) expect(cue.lines[0]).toMatch(/^<v SPEAKER_0[01]>/);
    const text = await postTranscribe(base, wav, { ...fields, response_format: 'text' });
    for (const line of (text.body as string).trim().split('\n')) expect(line).toMatch(/^\[SPEAKER_0[01]\] /);
    const tsv = await postTranscribe(base, wav, { ...fields, response_format: 'tsv' });
    for (const row of (tsv.body as string).trim().split('\n').slice(1)) expect(row).toMatch(/^\d+\t\d+\t\[SPEAKER_0[01]\] /);
  });

  it('errors: bad values 400, unknown job 404, unfinished job 409 job_not_completed', async () => {
    const bad = await postTranscribe(base, jfk, { response_format: 'docx' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'validation_failed', field: 'response_format' });
    const badWidth = await postTranscribe(base, jfk, { max_line_width: '0' });
    expect(badWidth.body.error).toMatchObject({ code: 'validation_failed', field: 'max_line_width' });
    expect((await getJson(`${base}/jobs/${jobId}/result?format=pdf`)).body.error).toMatchObject({ code: 'validation_failed', field: 'format' });
    expect((await getJson(`${base}/jobs/${jobId}/result?colour=red`)).body.error).toMatchObject({ code: 'validation_failed', field: 'colour' });
    const unknown = await getJson(`${base}/jobs/00000000-0000-4000-8000-000000000000/result`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('job_not_found');
    // right after submission the job is queued or running (a fast worker may have finished it: then 200)
    const pending = await postTranscribe(base, jfk, { async: 'true', vad: 'false' });
    const early = await getJson(`${base}/jobs/${pending.body.job_id}/result`);
    if (early.status !== 200) {
      expect(early.status).toBe(409);
      expect(early.body.error.code).toBe('job_not_completed');
    }
    const cancelled = await postTranscribe(base, jfk, { async: 'true' });
    await fetch(`${base}/jobs/${cancelled.body.job_id}`, { method: 'DELETE' });
    const afterCancel = await getJson(`${base}/jobs/${cancelled.body.job_id}/result`);
    if (afterCancel.status !== 200) expect(afterCancel.body.error.code).toMatch(/^job_(cancelled|not_completed)$/);
  });
});

function form(file: Buffer, fields: Record<string, string>, name = 'audio.wav'): FormData {
  const data = new FormData();
  data.append('file', new Blob([file]), name);
  for (const [key, value] of Object.entries(fields)) data.append(key, value);
  return data;
}
