import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { downloadFile, DownloadOptions, hideModelDir, inModelDir } from '@app/model-cache';
import { ALIGNMENT_MODEL_FILES, AlignmentModelLocation, onnxExportCandidates } from './alignment-model-registry';

/** Why an alignment model can't be had; the transcript then keeps whisper's own word times. */
export class AlignmentModelUnavailable extends Error {}

/**
 * Ensures MODEL_DIR/align/<lang>/ holds an ONNX wav2vec2 model, downloading the default model's ONNX
 * export when online. The folder counts as present only once model.onnx and vocab.json are both there
 * (vocab first, model last: each file lands by atomic rename).
 */
export async function ensureAlignmentModel(location: AlignmentModelLocation, options: DownloadOptions): Promise<void> {
  if (location.present) return;
  const folder = inModelDir(location.dir, location.modelDir);
  if (!location.sourceRepo) {
    (options.warn ?? options.log)(`no alignment model for "${location.language}": place model.onnx + vocab.json in ${location.dir}`);
    throw new AlignmentModelUnavailable(
      `no default alignment model for language "${location.language}"; place an ONNX wav2vec2 CTC model (model.onnx + vocab.json) in ${folder}`,
    );
  }
  const failures: string[] = [];
  for (const repo of onnxExportCandidates(location.sourceRepo)) {
    const base = `https://huggingface.co/${repo}/resolve/main`;
    try {
      await downloadFile(`${base}/${ALIGNMENT_MODEL_FILES.vocab}`, join(location.dir, ALIGNMENT_MODEL_FILES.vocab), options);
      for (const optional of [ALIGNMENT_MODEL_FILES.preprocessor, ALIGNMENT_MODEL_FILES.config]) {
        await downloadFile(`${base}/${optional}`, join(location.dir, optional), options).catch(() => undefined);
      }
      await downloadFile(`${base}/onnx/model.onnx`, join(location.dir, ALIGNMENT_MODEL_FILES.model), options);
      return;
    } catch (error) {
      failures.push(`${repo}: ${(error as Error).message}`);
      // network down: the other candidates would fail the same way
      if (/network/.test((error as Error).message)) break;
    }
  }
  if (existsSync(join(location.dir, ALIGNMENT_MODEL_FILES.model))) return;
  const why = failures.join('; ');
  (options.warn ?? options.log)(`alignment model for "${location.language}" unavailable: place model.onnx + vocab.json in ${location.dir} (${why})`);
  throw new AlignmentModelUnavailable(
    `alignment model for "${location.language}" (${location.sourceRepo}) is not in MODEL_DIR and could not be downloaded ` +
      `(${hideModelDir(why, location.modelDir)}); place model.onnx + vocab.json in ${folder}`,
  );
}
