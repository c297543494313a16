import { mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { loadWhisperModel, readModelIsMultilingual } from './whisper-model';

const MODELS = path.resolve(__dirname, '..', '..', '..', 'models');

describe('readModelIsMultilingual (the header, without loading)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'model-header-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says what the loaded model says', async () => {
    for (const file of ['ggml-synthetic-micro.bin', 'ggml-synthetic-micro-en.bin']) {
      const modelPath = path.join(MODELS, file);
      const loaded = await loadWhisperModel(modelPath, { useGpu: false });
      try {
        expect({ file, multilingual: await readModelIsMultilingual(modelPath) }).toEqual({ file, multilingual: loaded.isMultilingual });
      } finally {
        await loaded.free();
      }
    }
  });

  it('reads n_vocab: 51865 tokens or more is multilingual', async () => {
    const header = (vocab: number) => {
      const bytes = Buffer.alloc(8);
      bytes.writeUInt32LE(0x67676d6c, 0);
      bytes.writeInt32LE(vocab, 4);
      return bytes;
    };
    writeFileSync(path.join(dir, 'multi.bin'), header(51865));
    writeFileSync(path.join(dir, 'english.bin'), header(51864));
    expect(await readModelIsMultilingual(path.join(dir, 'multi.bin'))).toBe(true);
    expect(await readModelIsMultilingual(path.join(dir, 'english.bin'))).toBe(false);
  });

  it('remembers a file\'s answer until the file is replaced', async () => {
    const file = path.join(dir, 'replaced.bin');
    const header = (vocab: number) => Buffer.concat([Buffer.from([0x6c, 0x6d, 0x67, 0x67]), Buffer.from(Int32Array.of(vocab).buffer)]);
    // whole seconds: the time can be put back exactly
    const time = Math.floor(Date.now() / 1000) - 60;
    writeFileSync(file, header(51865));
    utimesSync(file, time, time);
    expect(await readModelIsMultilingual(file)).toBe(true);
    // its bytes changed in place with size and time kept: the remembered answer stands (the file was not read again)
    writeFileSync(file, header(51864));
    utimesSync(file, time, time);
    expect(await readModelIsMultilingual(file)).toBe(true);
    // replaced by another model (a download renames a new file over it): read anew
    const other = path.join(dir, 'replaced.tmp');
    writeFileSync(other, header(51864));
    renameSync(other, file);
    expect(await readModelIsMultilingual(file)).toBe(false);
  });

  it('undefined for a missing, short or foreign file (loading it says why)', async () => {
    writeFileSync(path.join(dir, 'short.bin'), Buffer.from([0x6c, 0x6d]));
    writeFileSync(path.join(dir, 'foreign.bin'), Buffer.from('GGUF....'));
    expect(await readModelIsMultilingual(path.join(dir, 'missing.bin'))).toBeUndefined();
    expect(await readModelIsMultilingual(path.join(dir, 'short.bin'))).toBeUndefined();
    expect(await readModelIsMultilingual(path.join(dir, 'foreign.bin'))).toBeUndefined();
  });
});
