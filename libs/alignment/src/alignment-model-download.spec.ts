import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DownloadOptions } from '@app/model-cache';
import { AlignmentModelUnavailable, ensureAlignmentModel } from './alignment-model-download';
import { locateAlignmentModel } from './alignment-model-registry';

/** Error text that names the server's MODEL_DIR, as an fs failure would. */
function failingOptions(modelDir: string, warnings: string[]): DownloadOptions {
  return {
    timeoutMs: 5_000,
    log: () => undefined,
    warn: (message) => void warnings.push(message),
    fetchImpl: async () => {
      throw new Error(`EACCES: permission denied, open '${join(modelDir, 'align', 'de', 'vocab.json.partial')}'`);
    },
  };
}

describe('ensureAlignmentModel: what an unavailable model tells the client', () => {
  const modelDir = mkdtempSync(join(tmpdir(), 'align-models-'));

  it('a language without a default model: place the files in MODEL_DIR/align/<lang>, full path to the log', async () => {
    const warnings: string[] = [];
    const error = await ensureAlignmentModel(locateAlignmentModel('sw', modelDir), failingOptions(modelDir, warnings)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(AlignmentModelUnavailable);
    expect(error?.message).toContain('place an ONNX wav2vec2 CTC model (model.onnx + vocab.json) in MODEL_DIR/align/sw');
    expect(error?.message).not.toContain(modelDir);
    expect(warnings.join('\n')).toContain(join(modelDir, 'align', 'sw'));
  });

  it('a failed download: the reason without the server path, and where to place the files', async () => {
    const warnings: string[] = [];
    const error = await ensureAlignmentModel(locateAlignmentModel('de', modelDir), failingOptions(modelDir, warnings)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(AlignmentModelUnavailable);
    expect(error?.message).toContain('place model.onnx + vocab.json in MODEL_DIR/align/de');
    expect(error?.message).toContain('EACCES');
    expect(error?.message).not.toContain(modelDir);
    expect(warnings.join('\n')).toContain(join(modelDir, 'align', 'de'));
  });
});

describe('ensureAlignmentModel: downloads from HF_ENDPOINT', () => {
  /** A stand-in hub publishing one export; `withExternalData` adds onnx/model.onnx_data. */
  async function hub(files: Record<string, string>): Promise<{ endpoint: string; requests: string[]; close: () => Promise<void> }> {
    const { createServer } = await import('node:http');
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const body = files[req.url ?? ''];
      if (body === undefined) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-length': Buffer.byteLength(body) }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as import('node:net').AddressInfo;
    return { endpoint: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }
  const options = (hfEndpoint: string): DownloadOptions => ({ timeoutMs: 10_000, hfEndpoint, log: () => undefined });
  const base = '/Xenova/nb-wav2vec2-1b-bokmaal-v2/resolve/main';

  it('fetches the external data file of a large export beside model.onnx', async () => {
    const { readFileSync } = await import('node:fs');
    const stand = await hub({ [`${base}/vocab.json`]: '{"<pad>":0}', [`${base}/onnx/model.onnx`]: 'graph', [`${base}/onnx/model.onnx_data`]: 'weights' });
    const modelDir = mkdtempSync(join(tmpdir(), 'align-data-'));
    try {
      await ensureAlignmentModel(locateAlignmentModel('no', modelDir), options(stand.endpoint));
      expect(readFileSync(join(modelDir, 'align', 'no', 'model.onnx_data'), 'utf8')).toBe('weights');
      expect(readFileSync(join(modelDir, 'align', 'no', 'model.onnx'), 'utf8')).toBe('graph');
      // the weights land before the graph that makes the folder count as complete
      expect(stand.requests.indexOf(`${base}/onnx/model.onnx_data`)).toBeLessThan(stand.requests.indexOf(`${base}/onnx/model.onnx`));
    } finally {
      await stand.close();
    }
  });

  it('an export without external data needs none', async () => {
    const { existsSync } = await import('node:fs');
    const stand = await hub({ [`${base}/vocab.json`]: '{"<pad>":0}', [`${base}/onnx/model.onnx`]: 'graph' });
    const modelDir = mkdtempSync(join(tmpdir(), 'align-data-'));
    try {
      await ensureAlignmentModel(locateAlignmentModel('no', modelDir), options(stand.endpoint));
      expect(existsSync(join(modelDir, 'align', 'no', 'model.onnx'))).toBe(true);
      expect(existsSync(join(modelDir, 'align', 'no', 'model.onnx_data'))).toBe(false);
    } finally {
      await stand.close();
    }
  });

  it('no export published anywhere: unavailable, naming the model and the conversion command', async () => {
    const stand = await hub({});
    const modelDir = mkdtempSync(join(tmpdir(), 'align-data-'));
    try {
      const error = await ensureAlignmentModel(locateAlignmentModel('sv', modelDir), options(stand.endpoint)).catch((e: Error) => e);
      expect(error).toBeInstanceOf(AlignmentModelUnavailable);
      expect(error?.message).toContain('KBLab/wav2vec2-large-voxrex-swedish');
      expect(error?.message).toContain('optimum-cli export onnx --model KBLab/wav2vec2-large-voxrex-swedish');
    } finally {
      await stand.close();
    }
  });
});
