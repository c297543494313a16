import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * Error bodies name model files relative to MODEL_DIR ("MODEL_DIR/align/de"): clients learn what to
 * place, not the server's directory layout. The absolute path goes to the worker's log only.
 */
export function inModelDir(path: string, modelDir: string): string {
  const rel = relative(resolve(modelDir), resolve(path));
  if (rel === '') return 'MODEL_DIR';
  // outside MODEL_DIR (never expected): the last part only, still no layout
  if (rel.startsWith('..') || isAbsolute(rel)) return rel.split(sep).pop() ?? 'MODEL_DIR';
  return `MODEL_DIR/${rel.split(sep).join('/')}`;
}

/** Replaces MODEL_DIR's absolute path inside free text (an fs or download error) with "MODEL_DIR". */
export function hideModelDir(text: string, modelDir: string): string {
  const dir = resolve(modelDir);
  return dir === sep ? text : text.split(dir).join('MODEL_DIR');
}
