/**
 * Downloads that finish, end to end: a local stand-in for the Hugging Face hub, reached through
 * HF_ENDPOINT, serves generated models under the official paths the registries build (whisper
 * `ggerganov/whisper.cpp/resolve/main/ggml-tiny-q8_0.bin` as a 302 to a CDN path with
 * X-Linked-Etag / X-Linked-Size, the alignment export for English, the diarization pair). Two workers
 * share one MODEL_DIR that starts with only the default model. The whisper transfer is slowed down so
 * it lasts well past the (1 s) connect timeout; the hub publishes a wrong SHA-256 once (the job gets
 * 503 model_unavailable naming the mismatch), then the connection drops once mid-file (the download
 * resumes with Range) while two concurrent jobs on two workers wait for one download.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { ALIGNMENT_MODEL_FILES, DEFAULT_ALIGNMENT_MODELS, onnxExportCandidates } from '@app/alignment';
import { DIARIZATION_DOWNLOADS } from '@app/diarization';
import { WHISPER_HF_REPO } from '@app/whisper';
import { HubStandIn } from '../support/hub-stand-in';
import {
  freePort,
  getJson,
  MODEL_DIR,
  postTranscribe,
  prepareRedis,
  REPO_ROOT,
  RunningProcess,
  startApi,
  startWorker,
  waitFor,
  waitForHealthy,
} from '../support/service-harness';
import { makeConversationScript, synthesizeConversation } from '../support/synthetic-conversation';
import { encodeWav } from '../support/wav';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const TINY_FILE = 'ggml-tiny-q8_0.bin'; // COMPUTE_TYPE=int8 (the default)
const TINY_PATH = `${WHISPER_HF_REPO}/resolve/main/${TINY_FILE}`;
const BYTES_PER_SECOND = 2_500_000;
const CONNECT_TIMEOUT_S = 1;

describe('model downloads through HF_ENDPOINT', () => {
  const hub = new HubStandIn();
  const whisperBytes = readFileSync(join(MODEL_DIR, 'ggml-synthetic-micro.bin'));
  const alignRepo = onnxExportCandidates(DEFAULT_ALIGNMENT_MODELS.en)[0];
  let modelDir: string;
  let base: string;
  let workers: RunningProcess[] = [];
  let api: RunningProcess | undefined;
  const silence = encodeWav(new Float32Array(4 * 16_000));

  beforeAll(async () => {
    await hub.start();
    hub.add(WHISPER_HF_REPO, TINY_FILE, whisperBytes);
    hub.behave(TINY_PATH, { bytesPerSecond: BYTES_PER_SECOND });
    // transformers.js layout: small json files straight from git, the ONNX export through LFS
    for (const file of [ALIGNMENT_MODEL_FILES.vocab, ALIGNMENT_MODEL_FILES.config, ALIGNMENT_MODEL_FILES.preprocessor]) {
      hub.add(alignRepo, file, readFileSync(join(MODEL_DIR, 'align', 'en', file)), false);
    }
    hub.add(alignRepo, 'onnx/model.onnx', readFileSync(join(MODEL_DIR, 'align', 'en', ALIGNMENT_MODEL_FILES.model)));
    hub.add(DIARIZATION_DOWNLOADS.segmentation.repo, DIARIZATION_DOWNLOADS.segmentation.file, readFileSync(join(MODEL_DIR, 'diarize', 'segmentation.onnx')));
    hub.add(DIARIZATION_DOWNLOADS.embedding.repo, DIARIZATION_DOWNLOADS.embedding.file, readFileSync(join(MODEL_DIR, 'diarize', 'embedding.onnx')));

    // MODEL_DIR holds the default model only: everything else comes from the stand-in
    modelDir = mkdtempSync(join(tmpdir(), 'model-download-e2e-'));
    copyFileSync(join(MODEL_DIR, 'ggml-synthetic-micro.bin'), join(modelDir, 'ggml-synthetic-micro.bin'));

    await prepareRedis();
    const env = {
      MODEL_DIR: modelDir,
      HF_ENDPOINT: hub.url,
      WHISPER_MODEL: 'synthetic-micro',
      MODEL_DOWNLOAD_CONNECT_TIMEOUT_S: String(CONNECT_TIMEOUT_S),
      MODEL_DOWNLOAD_STALL_S: '10',
      WORKER_CONCURRENCY: '1',
      WHISPER_THREADS: '1',
    };
    workers = [startWorker(env, 'worker-a'), startWorker(env, 'worker-b')];
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = startApi(port, { MODEL_DIR: modelDir });
    await waitForHealthy(base, 2);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), ...workers.map((w) => w.stop())]);
    await hub.stop();
    if (modelDir) rmSync(modelDir, { recursive: true, force: true });
  });

  const output = () => workers.map((w) => w.output()).join('\n');

  it('rejects a download whose SHA-256 differs from the one the hub publishes, with a clear error', async () => {
    const wrong = 'f'.repeat(64);
    hub.behave(TINY_PATH, { wrongShaOnce: wrong });
    const { status, body } = await postTranscribe(base, silence, { whisper_model: 'tiny', vad: 'false' });
    expect(status).toBe(503);
    expect(body.error).toMatchObject({ code: 'model_unavailable', field: 'whisper_model' });
    expect(body.error.message).toContain(
      `SHA-256 mismatch for ${TINY_FILE}: the hub publishes ${wrong} (X-Linked-Etag), the download has ${sha256(whisperBytes)}; the file was deleted`,
    );
    expect(body.error.message).toMatch(/place ggml-tiny-q8_0\.bin in MODEL_DIR$/);
    // nothing left under any name: the next request starts clean
    expect(readdirSync(modelDir).filter((f) => f.startsWith(TINY_FILE))).toEqual([]);
    // the hub answered with its redirect, the CDN with the whole file
    expect(hub.requestsFor(TINY_PATH).map((r) => `${r.kind} ${r.status}`)).toEqual(['hub 302', 'cdn 200']);
  });

  it('then downloads once for two concurrent jobs on two workers, slower than the connect timeout, resuming a dropped connection', async () => {
    const before = hub.requests.length;
    const dropAt = Math.floor(whisperBytes.length * 0.4);
    hub.behave(TINY_PATH, { dropOnceAt: dropAt });
    const started = Date.now();
    const [first, second] = await Promise.all([
      postTranscribe(base, silence, { whisper_model: 'tiny', vad: 'false' }),
      // a moment later, so both workers are busy with one job each
      new Promise((r) => setTimeout(r, 300)).then(() => postTranscribe(base, silence, { whisper_model: 'tiny', vad: 'false' })),
    ]);
    const elapsed = Date.now() - started;
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(first.body.model).toContain('tiny');
    expect(second.body.model).toContain('tiny');

    const requests = hub.requests.slice(before).filter((r) => r.path === TINY_PATH);
    // one whole transfer, cut at 40 %, then one resume from exactly there: one download in all
    expect(requests.map((r) => `${r.kind} ${r.status} ${r.range ?? '-'}`)).toEqual(['hub 302 -', 'cdn 200 -', `hub 302 bytes=${dropAt}-`, `cdn 206 bytes=${dropAt}-`]);
    const sent = requests.reduce((sum, r) => sum + (r.sentBytes ?? 0), 0);
    expect(sent).toBe(whisperBytes.length);
    const transferSeconds = ((requests[3].endedAt ?? Date.now()) - requests[0].at) / 1000;
    // the transfer lasted well past the connect timeout
    expect(transferSeconds).toBeGreaterThan(CONNECT_TIMEOUT_S * 2);
    expect(readFileSync(join(modelDir, TINY_FILE)).equals(whisperBytes)).toBe(true);
    expect(readdirSync(modelDir).filter((f) => f.startsWith(TINY_FILE)).sort()).toEqual([TINY_FILE, `${TINY_FILE}.source.json`]);

    // one worker downloaded; the other waited on its lock in the shared MODEL_DIR
    const downloaded = workers.filter((w) => w.output().includes(`downloaded ${TINY_FILE} (`));
    const waited = workers.filter((w) => /ggml-tiny-q8_0\.bin: pid \d+ on .+ is downloading it into this MODEL_DIR; waiting for it/.test(w.output()));
    expect(downloaded).toHaveLength(1);
    expect(waited).toHaveLength(1);
    expect(waited[0]).not.toBe(downloaded[0]);
    expect(output()).toMatch(/ggml-tiny-q8_0\.bin: try 1\/5 failed \(.*\); resuming at byte \d+/);
    expect(output()).toMatch(/downloaded ggml-tiny-q8_0\.bin \(8\.0 MB in [\d.]+ s, 2 tries; sha256 [0-9a-f]{64} verified\)/);
    console.log(
      `model download e2e: ${(whisperBytes.length / 1e6).toFixed(1)} MB at ${(BYTES_PER_SECOND / 1e6).toFixed(1)} MB/s in ~${transferSeconds.toFixed(1)} s ` +
        `(connect timeout ${CONNECT_TIMEOUT_S} s), dropped at ${dropAt} and resumed, ${sent} bytes sent in all (resume overhead ${sent - whisperBytes.length} bytes); ` +
        `two jobs done in ${(elapsed / 1000).toFixed(1)} s`,
    );
  });

  it('downloads the alignment and diarization models by their real paths, and they load', async () => {
    const script = makeConversationScript({ speakers: 2, seconds: 20, seed: 5 });
    const audio = synthesizeConversation({ speakers: 2, turns: script, seed: 5 });
    const { status, body } = await postTranscribe(base, encodeWav(audio.pcm), {
      whisper_model: 'tiny',
      align_words: 'true',
      diarize: 'true',
      allowed_languages: 'en',
      vad: 'false',
    });
    expect(status).toBe(200);
    expect(body.alignment).toMatchObject({ status: 'ok', model: 'synthetic-tone-ctc' });
    expect(body.diarization.status).toBe('ok');
    const paths = (repo: string, file: string) => hub.requestsFor(`${repo}/resolve/main/${file}`).map((r) => `${r.kind} ${r.status}`);
    expect(paths(alignRepo, 'vocab.json')).toEqual(['hub 200']);
    expect(paths(alignRepo, 'onnx/model.onnx')).toEqual(['hub 302', 'cdn 200']);
    expect(paths(DIARIZATION_DOWNLOADS.segmentation.repo, DIARIZATION_DOWNLOADS.segmentation.file)).toEqual(['hub 302', 'cdn 200']);
    expect(paths(DIARIZATION_DOWNLOADS.embedding.repo, DIARIZATION_DOWNLOADS.embedding.file)).toEqual(['hub 302', 'cdn 200']);
    for (const file of ['align/en/model.onnx', 'align/en/vocab.json', 'diarize/segmentation.onnx', 'diarize/embedding.onnx']) {
      expect(statSync(join(modelDir, file)).size).toBe(statSync(join(MODEL_DIR, file)).size);
    }

    // `npm run models -- list` reads what the workers recorded
    const listed = JSON.parse(execFileSync(process.execPath, [join(REPO_ROOT, 'dist', 'scripts', 'models.js'), 'list', '--json'], { env: { ...process.env, MODEL_DIR: modelDir }, encoding: 'utf8' }));
    const byFile = new Map((listed.files as { file: string; source?: string; sha256_verified?: boolean }[]).map((f) => [f.file, f]));
    expect(byFile.get(TINY_FILE)).toMatchObject({ source: `${hub.url}/${TINY_PATH}`, sha256_verified: true });
    expect(byFile.get('align/en/model.onnx')).toMatchObject({ source: `${hub.url}/${alignRepo}/resolve/main/onnx/model.onnx`, sha256_verified: true });
    expect(byFile.get('diarize/segmentation.onnx')).toMatchObject({ sha256_verified: true });
    expect(byFile.get('ggml-synthetic-micro.bin')?.source).toBeUndefined();
    expect(existsSync(join(modelDir, 'diarize', 'segmentation.onnx.lock'))).toBe(false);
  });

  it('shows the download in GET /jobs/:id: stage downloading_model with the percent', async () => {
    const BASE_FILE = 'ggml-base-q8_0.bin';
    hub.add(WHISPER_HF_REPO, BASE_FILE, whisperBytes);
    hub.behave(`${WHISPER_HF_REPO}/resolve/main/${BASE_FILE}`, { bytesPerSecond: 1_500_000 });
    const accepted = await postTranscribe(base, silence, { whisper_model: 'base', vad: 'false', async: 'true' });
    expect(accepted.status).toBe(202);
    const seen: { stage: string; download?: { file: string; percent?: number; total_bytes?: number; received_bytes: number } }[] = [];
    const final = await waitFor('the job to finish', async () => {
      const { body } = await getJson(`${base}/jobs/${accepted.body.job_id}`);
      seen.push(body);
      return body.status === 'completed' || body.status === 'failed' ? body : undefined;
    }, 60_000, 100);
    expect(final.status).toBe('completed');
    const downloading = seen.filter((view) => view.stage === 'downloading_model');
    expect(downloading.length).toBeGreaterThan(0);
    const partway = downloading.find((view) => (view.download?.percent ?? 0) > 0 && (view.download?.percent ?? 100) < 100);
    expect(partway?.download).toMatchObject({ file: BASE_FILE, total_bytes: whisperBytes.length });
    // percent only grows
    const percents = downloading.map((view) => view.download?.percent ?? 0);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
  });
});
