import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ALIGNMENT_MODELS, onnxExportCandidates } from '@app/alignment';
import { loadConfig } from '@app/config';
import { DIARIZATION_DOWNLOADS } from '@app/diarization';
import { WHISPER_HF_REPO } from '@app/whisper';
import { HubStandIn } from '../test/support/hub-stand-in';
import { listModels, Output, printList, progressBar, pullModels } from './models';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function capture(tty = false): Output & { lines: string[]; bars: string[] } {
  const lines: string[] = [];
  const bars: string[] = [];
  return { tty, lines, bars, line: (text) => lines.push(text), bar: (text) => bars.push(text) };
}

describe('npm run models', () => {
  const hub = new HubStandIn();
  const whisper = randomBytes(600_000);
  const alignModel = randomBytes(200_000);
  const segmentation = randomBytes(100_000);
  const embedding = randomBytes(120_000);
  const alignRepo = onnxExportCandidates(DEFAULT_ALIGNMENT_MODELS.en)[0];

  beforeAll(async () => {
    await hub.start();
    hub.add(WHISPER_HF_REPO, 'ggml-tiny-q8_0.bin', whisper);
    hub.add(alignRepo, 'onnx/model.onnx', alignModel);
    hub.add(alignRepo, 'vocab.json', Buffer.from('{"<pad>":0,"|":1,"a":2}'), false);
    hub.add(alignRepo, 'config.json', Buffer.from('{"model_type":"wav2vec2"}'), false);
    // no preprocessor_config.json: optional, a 404 is fine
    hub.add(DIARIZATION_DOWNLOADS.segmentation.repo, DIARIZATION_DOWNLOADS.segmentation.file, segmentation);
    hub.add(DIARIZATION_DOWNLOADS.embedding.repo, DIARIZATION_DOWNLOADS.embedding.file, embedding);
  });
  afterAll(() => hub.stop());

  it('pull fetches whisper, alignment and diarization models from HF_ENDPOINT and prints sizes and sums; list shows them with their source', async () => {
    const modelDir = mkdtempSync(join(tmpdir(), 'models-pull-'));
    const config = loadConfig({ MODEL_DIR: modelDir, HF_ENDPOINT: hub.url, COMPUTE_TYPE: 'int8' });
    const out = capture();
    const { failed } = await pullModels(['tiny', 'align:en', 'diarize', 'tiny'], config, out);
    expect(failed).toEqual([]);
    const text = out.lines.join('\n');
    expect(text).toContain(`ggml-tiny-q8_0.bin  600.0 kB  sha256 ${sha256(whisper)}  (verified against the hub)`);
    expect(text).toContain(`align/en/model.onnx  200.0 kB  sha256 ${sha256(alignModel)}  (verified against the hub)`);
    // small git files have no published SHA-256
    expect(text).toMatch(/align\/en\/vocab\.json {2}23 B {2}sha256 [0-9a-f]{64} {2}\(the hub published no checksum\)/);
    expect(text).toContain(`diarize/segmentation.onnx  100.0 kB  sha256 ${sha256(segmentation)}  (verified against the hub)`);
    expect(text).toContain(`diarize/embedding.onnx  120.0 kB  sha256 ${sha256(embedding)}  (verified against the hub)`);
    // plain lines, not a bar, when the output is not a terminal
    expect(text).toMatch(/ggml-tiny-q8_0\.bin: 100% of 0\.6 MB/);
    expect(text).toContain('all models present');
    // named twice, downloaded once
    expect(hub.fullTransfers(`${WHISPER_HF_REPO}/resolve/main/ggml-tiny-q8_0.bin`)).toBe(1);
    expect(readFileSync(join(modelDir, 'ggml-tiny-q8_0.bin')).equals(whisper)).toBe(true);

    const listed = listModels(modelDir);
    expect(listed).toEqual(expect.arrayContaining([
      { model: 'tiny', file: 'ggml-tiny-q8_0.bin', bytes: whisper.length, source: `${hub.url}/${WHISPER_HF_REPO}/resolve/main/ggml-tiny-q8_0.bin`, sha256: sha256(whisper), sha256_verified: true },
      expect.objectContaining({ model: 'align:en', file: 'align/en/model.onnx', source: `${hub.url}/${alignRepo}/resolve/main/onnx/model.onnx` }),
      expect.objectContaining({ model: 'diarize', file: 'diarize/embedding.onnx', sha256_verified: true }),
    ]));
    expect(listed.map((f) => f.file)).not.toContain('ggml-tiny-q8_0.bin.source.json');

    // a second pull downloads nothing
    const before = hub.requests.length;
    const again = capture();
    await pullModels(['tiny', 'align:en', 'diarize'], config, again);
    expect(hub.requests.length).toBe(before);
    expect(again.lines.join('\n')).toContain(`sha256 ${sha256(whisper)}`);
  });

  it('draws a progress bar on a terminal', async () => {
    const modelDir = mkdtempSync(join(tmpdir(), 'models-pull-'));
    hub.behave(`${WHISPER_HF_REPO}/resolve/main/ggml-tiny-q8_0.bin`, { bytesPerSecond: 1_000_000 });
    try {
      const out = capture(true);
      await pullModels(['tiny'], loadConfig({ MODEL_DIR: modelDir, HF_ENDPOINT: hub.url }), out);
      expect(out.bars.some((bar) => /ggml-tiny-q8_0\.bin {2}\[#+\.+\] +\d+% {2}[\d.]+ kB \/ 600\.0 kB/.test(bar))).toBe(true);
      expect(out.lines.join('\n')).not.toMatch(/\d+% of/);
    } finally {
      hub.behave(`${WHISPER_HF_REPO}/resolve/main/ggml-tiny-q8_0.bin`, { bytesPerSecond: 0 });
    }
  });

  it('reports what it cannot pull and fails', async () => {
    const modelDir = mkdtempSync(join(tmpdir(), 'models-pull-'));
    const out = capture();
    const { failed } = await pullModels(['base', 'align:xx', 'nonsense'], loadConfig({ MODEL_DIR: modelDir, HF_ENDPOINT: hub.url }), out);
    expect(failed).toEqual(['base', 'align:xx', 'nonsense']);
    const text = out.lines.join('\n');
    expect(text).toMatch(/FAILED: model "base" is not in MODEL_DIR and could not be downloaded \(HTTP 404\)/);
    expect(text).toContain('no default alignment model for "xx"');
    expect(text).toContain('unknown model "nonsense"');
  });

  it('list shows files placed by hand and unfinished downloads', () => {
    const modelDir = mkdtempSync(join(tmpdir(), 'models-list-'));
    writeFileSync(join(modelDir, 'ggml-mine.bin'), Buffer.alloc(2048));
    writeFileSync(join(modelDir, 'ggml-small-q8_0.bin.partial'), Buffer.alloc(1000));
    mkdirSync(join(modelDir, 'diarize'));
    writeFileSync(join(modelDir, 'diarize', 'segmentation.onnx'), Buffer.alloc(10));
    writeFileSync(join(modelDir, 'notes.txt'), 'x');
    const out = capture();
    printList(modelDir, out);
    const text = out.lines.join('\n');
    expect(text).toMatch(/mine +ggml-mine\.bin +2\.0 kB {2}source unknown/);
    expect(text).toMatch(/small +ggml-small-q8_0\.bin\.partial +1\.0 kB {2}incomplete download/);
    expect(text).toMatch(/diarize +diarize\/segmentation\.onnx +10 B/);
    expect(text).not.toContain('notes.txt');
    expect(text).toContain('2 files, 2.1 kB');
  });

  it('formats a bar', () => {
    expect(progressBar(50, 100, 1e6, 'f.bin', 10)).toBe('f.bin  [#####.....]  50%  50 B / 100 B  1.0 MB/s');
  });
});
