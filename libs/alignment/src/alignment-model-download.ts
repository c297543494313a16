import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { downloadFile, DownloadOptions, hideModelDir, hubFileUrl, inModelDir } from '@app/model-cache';
import { ALIGNMENT_MODEL_FILES, AlignmentModelLocation, onnxExportCandidates } from './alignment-model-registry';

/** Where transformers.js-layout repositories keep the ONNX export (beside vocab.json). */
export const ALIGNMENT_ONNX_EXPORT_FILE = 'onnx/model.onnx';
/**
 * Exports over 2 GB (the 1B-parameter models) keep their weights in an external data file that the
 * graph names by this relative path, so it is saved beside model.onnx under the same name.
 */
export const ALIGNMENT_ONNX_EXTERNAL_DATA_FILE = 'onnx/model.onnx_data';
const EXTERNAL_DATA_NAME = 'model.onnx_data';

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
    const url = (file: string) => hubFileUrl(repo, file, options.hfEndpoint);
    try {
      await downloadFile(url(ALIGNMENT_MODEL_FILES.vocab), join(location.dir, ALIGNMENT_MODEL_FILES.vocab), options);
      for (const optional of [ALIGNMENT_MODEL_FILES.preprocessor, ALIGNMENT_MODEL_FILES.config]) {
        await downloadFile(url(optional), join(location.dir, optional), options).catch(() => undefined);
      }
      // the weights first, the graph last: the folder counts as complete once model.onnx lands
      await downloadExternalDataIfPublished(url(ALIGNMENT_ONNX_EXTERNAL_DATA_FILE), join(location.dir, EXTERNAL_DATA_NAME), options);
      await downloadFile(url(ALIGNMENT_ONNX_EXPORT_FILE), join(location.dir, ALIGNMENT_MODEL_FILES.model), options);
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
      `(${hideModelDir(why, location.modelDir)}); place model.onnx + vocab.json in ${folder} ` +
      `(no ONNX export published? optimum-cli export onnx --model ${location.sourceRepo} <dir>, see the README's "Models")`,
  );
}

/** Most exports have no external data file (404): only a published one is fetched, and must arrive whole. */
async function downloadExternalDataIfPublished(url: string, path: string, options: DownloadOptions): Promise<void> {
  try {
    await downloadFile(url, path, options);
  } catch (error) {
    if (/\bHTTP 404\b/.test((error as Error).message)) return;
    throw error;
  }
}
