import { join } from 'node:path';
import { hideModelDir, inModelDir } from './model-dir-paths';

describe('paths as clients see them', () => {
  const modelDir = '/srv/models';

  it('names a path inside MODEL_DIR relative to it', () => {
    expect(inModelDir(join(modelDir, 'align', 'de'), modelDir)).toBe('MODEL_DIR/align/de');
    expect(inModelDir(modelDir, `${modelDir}/`)).toBe('MODEL_DIR');
    expect(inModelDir('./models/diarize', './models')).toBe('MODEL_DIR/diarize');
  });

  it('never shows a layout outside MODEL_DIR', () => {
    expect(inModelDir('/etc/secret/model.onnx', modelDir)).toBe('model.onnx');
  });

  it('hides MODEL_DIR inside free text', () => {
    expect(hideModelDir(`ENOENT: no such file or directory, open '${modelDir}/align/de/vocab.json'`, modelDir)).toBe(
      "ENOENT: no such file or directory, open 'MODEL_DIR/align/de/vocab.json'",
    );
    expect(hideModelDir('HTTP 404', modelDir)).toBe('HTTP 404');
  });
});
