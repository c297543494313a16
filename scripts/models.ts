/**
 * `npm run models -- pull small align:en align:de diarize`: fetch models into MODEL_DIR ahead of time
 * (for hosts that will be offline), with the worker's own download code: HF_ENDPOINT, HF_AUTH_TOKEN,
 * resume, size and SHA-256 checks, the lock shared with running workers.
 * `npm run models -- list`: what MODEL_DIR holds, sizes, and where each file came from.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { ALIGNMENT_MODEL_FILES, DEFAULT_ALIGNMENT_MODELS, ensureAlignmentModel, locateAlignmentModel } from '@app/alignment';
import { ConfigError, loadConfig, ServiceConfig } from '@app/config';
import { isOfficialWhisperModel, OFFICIAL_WHISPER_MODELS } from '@app/contracts';
import { ensureDiarizationModels, locateDiarizationModels } from '@app/diarization';
import { DownloadOptions, LOCK_SUFFIX, ModelSourceRecord, PARTIAL_SUFFIX, SOURCE_SIDECAR_SUFFIX } from '@app/model-cache';
import { ensureWhisperModelFile, resolveWhisperModel } from '@app/whisper';

const USAGE = `usage:
  npm run models -- pull <model>... [--compute-type int8|float16]
  npm run models -- list [--json]

models:
  ${OFFICIAL_WHISPER_MODELS.join(', ')}   whisper (ggml; int8 → the q8_0 file where one is published)
  align:<lang>        wav2vec2 alignment model for a language (${Object.keys(DEFAULT_ALIGNMENT_MODELS).length} languages, e.g. align:en align:de)
  diarize             the diarization pair (pyannote segmentation-3.0 + WeSpeaker ResNet34)

settings (as the worker reads them): MODEL_DIR, COMPUTE_TYPE, HF_ENDPOINT, HF_AUTH_TOKEN,
MODEL_DOWNLOAD_TIMEOUT_S, MODEL_DOWNLOAD_STALL_S, MODEL_DOWNLOAD_CONNECT_TIMEOUT_S`;

export interface Output {
  line(text: string): void;
  /** whether to draw a progress bar (a terminal) or print plain lines */
  tty: boolean;
  /** redraws the current bar line (tty only) */
  bar?(text: string): void;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}

export function progressBar(received: number, total: number | undefined, bytesPerSecond: number, label: string, width = 28): string {
  const speed = `${formatBytes(bytesPerSecond)}/s`;
  if (!total) return `${label}  ${formatBytes(received)}  ${speed}`;
  const fraction = Math.min(1, received / total);
  const filled = Math.round(fraction * width);
  return `${label}  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatBytes(received)} / ${formatBytes(total)}  ${speed}`;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function readSourceRecord(path: string): ModelSourceRecord | undefined {
  try {
    return JSON.parse(readFileSync(`${path}${SOURCE_SIDECAR_SUFFIX}`, 'utf8')) as ModelSourceRecord;
  } catch {
    return undefined;
  }
}

/** The files one pull target stands for (present or not), with its download step. */
interface Target {
  label: string;
  files: () => string[];
  fetch: (options: DownloadOptions) => Promise<unknown>;
}

export function parseTarget(name: string, config: ServiceConfig): Target {
  const modelDir = resolve(config.modelDir);
  if (name === 'diarize') {
    const paths = locateDiarizationModels(modelDir);
    return { label: name, files: () => [paths.segmentation, paths.embedding], fetch: (options) => ensureDiarizationModels(paths, options) };
  }
  const align = /^align:([a-z]{2,3})$/.exec(name);
  if (align) {
    const language = align[1];
    if (!DEFAULT_ALIGNMENT_MODELS[language]) {
      throw new Error(`no default alignment model for "${language}" (known: ${Object.keys(DEFAULT_ALIGNMENT_MODELS).join(', ')}); place model.onnx + vocab.json in MODEL_DIR/align/${language}`);
    }
    const location = locateAlignmentModel(language, modelDir);
    return {
      label: name,
      files: () => Object.values(ALIGNMENT_MODEL_FILES).map((file) => join(location.dir, file)).filter((path) => existsSync(path)),
      fetch: (options) => ensureAlignmentModel(locateAlignmentModel(language, modelDir), options),
    };
  }
  if (isOfficialWhisperModel(name)) {
    const spec = resolveWhisperModel(name, config.computeType, modelDir);
    return { label: `${name} (${spec.fileName})`, files: () => [spec.path], fetch: (options) => ensureWhisperModelFile(spec, options) };
  }
  throw new Error(`unknown model "${name}": expected a whisper model (${OFFICIAL_WHISPER_MODELS.join(', ')}), align:<lang> or diarize`);
}

/** Downloads every target (each once), printing progress and then each file's size and SHA-256. */
export async function pullModels(names: string[], config: ServiceConfig, out: Output): Promise<{ failed: string[] }> {
  const modelDir = resolve(config.modelDir);
  out.line(`MODEL_DIR ${modelDir}; source ${config.hfEndpoint}`);
  const failed: string[] = [];
  for (const name of [...new Set(names)]) {
    let target: Target;
    try {
      target = parseTarget(name, config);
    } catch (error) {
      out.line(`${name}: ${(error as Error).message}`);
      failed.push(name);
      continue;
    }
    let barFile = '';
    let barStarted = 0;
    let barFrom = 0;
    let drawn = false;
    const options: DownloadOptions = {
      authToken: config.hfAuthToken,
      hfEndpoint: config.hfEndpoint,
      timeoutMs: config.modelDownloadTimeoutS * 1000,
      connectTimeoutMs: config.modelDownloadConnectTimeoutS * 1000,
      stallTimeoutMs: config.modelDownloadStallS * 1000,
      logProgress: !out.tty,
      log: (message) => {
        if (drawn) out.bar?.('');
        drawn = false;
        out.line(`  ${message}`);
      },
      onProgress: out.tty
        ? (received, total, path) => {
            if (path !== barFile) {
              barFile = path;
              barStarted = Date.now();
              barFrom = received;
            }
            const seconds = Math.max(0.001, (Date.now() - barStarted) / 1000);
            out.bar?.(progressBar(received, total, (received - barFrom) / seconds, basename(path)));
            drawn = true;
          }
        : undefined,
    };
    // the FAILED line says it (the file to place; MODEL_DIR is printed above)
    options.warn = () => undefined;
    out.line(`${target.label}:`);
    try {
      await target.fetch(options);
    } catch (error) {
      if (drawn) out.bar?.('');
      out.line(`  FAILED: ${(error as Error).message}`);
      failed.push(name);
      continue;
    }
    if (drawn) out.bar?.('');
    for (const path of target.files()) {
      const size = statSync(path).size;
      const record = readSourceRecord(path);
      const sum = record && record.bytes === size ? record.sha256 : await sha256File(path);
      const check = record?.sha256_verified ? 'verified against the hub' : record ? 'the hub published no checksum' : 'was already there';
      out.line(`  ${relative(modelDir, path)}  ${formatBytes(size)}  sha256 ${sum}  (${check})`);
    }
  }
  out.line(failed.length === 0 ? 'all models present' : `failed: ${failed.join(', ')}`);
  return { failed };
}

export interface ListedFile {
  model: string;
  /** relative to MODEL_DIR */
  file: string;
  bytes: number;
  source?: string;
  sha256?: string;
  sha256_verified?: boolean;
  /** a download that has not finished (resumed by the next pull or request) */
  incomplete?: boolean;
}

function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name).sort();
  } catch {
    return [];
  }
}

/** What MODEL_DIR holds: whisper ggml files, align/<lang>/, diarize/ (sidecars, locks left out). */
export function listModels(modelDirSetting: string): ListedFile[] {
  const modelDir = resolve(modelDirSetting);
  const listed: ListedFile[] = [];
  const add = (model: string, path: string, name: string) => {
    if (name.endsWith(SOURCE_SIDECAR_SUFFIX) || name.endsWith(LOCK_SUFFIX) || name.includes(`${LOCK_SUFFIX}.stale-`) || name.endsWith('.tmp')) return;
    const bytes = statSync(path).size;
    if (name.endsWith(PARTIAL_SUFFIX)) {
      listed.push({ model, file: relative(modelDir, path), bytes, incomplete: true });
      return;
    }
    const record = readSourceRecord(path);
    listed.push({
      model,
      file: relative(modelDir, path),
      bytes,
      ...(record ? { source: record.url, sha256: record.sha256, sha256_verified: record.sha256_verified } : {}),
    });
  };
  for (const name of filesIn(modelDir)) {
    const whisper = /^ggml-(.+?)(-q8_0)?\.bin(\.partial)?$/.exec(name);
    if (whisper) add(whisper[1], join(modelDir, name), name);
  }
  const alignRoot = join(modelDir, 'align');
  for (const language of existsSync(alignRoot) ? readdirSync(alignRoot).sort() : []) {
    const dir = join(alignRoot, language);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of filesIn(dir)) add(`align:${language}`, join(dir, name), name);
  }
  const diarize = locateDiarizationModels(modelDir).dir;
  for (const name of filesIn(diarize)) add('diarize', join(diarize, name), name);
  return listed;
}

export function printList(modelDirSetting: string, out: Output, json = false): void {
  const files = listModels(modelDirSetting);
  if (json) {
    out.line(JSON.stringify({ model_dir: resolve(modelDirSetting), files }, null, 2));
    return;
  }
  out.line(`MODEL_DIR ${resolve(modelDirSetting)}`);
  if (files.length === 0) {
    out.line('  (no models: they download on first use, or `npm run models -- pull small align:en diarize`)');
    return;
  }
  const width = Math.max(...files.map((f) => f.file.length));
  const modelWidth = Math.max(...files.map((f) => f.model.length));
  for (const f of files) {
    const source = f.incomplete
      ? 'incomplete download (resumed by the next pull or request)'
      : f.source
        ? `${f.source}${f.sha256_verified ? ' (sha256 verified)' : ''}`
        : 'source unknown (placed by hand or generated)';
    out.line(`  ${f.model.padEnd(modelWidth)}  ${f.file.padEnd(width)}  ${formatBytes(f.bytes).padStart(9)}  ${source}`);
  }
  const total = files.filter((f) => !f.incomplete).reduce((sum, f) => sum + f.bytes, 0);
  const complete = files.filter((f) => !f.incomplete).length;
  out.line(`  ${complete} ${complete === 1 ? 'file' : 'files'}, ${formatBytes(total)}`);
}

function terminalOutput(): Output {
  const tty = Boolean(process.stdout.isTTY);
  return {
    tty,
    line: (text) => process.stdout.write(`${text}\n`),
    bar: (text) => process.stdout.write(`\r\x1b[K${text}`),
  };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const names: string[] = [];
  const env: Record<string, string | undefined> = { ...process.env };
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--json') json = true;
    else if (arg === '--compute-type') env.COMPUTE_TYPE = rest[++i];
    else if (arg.startsWith('--compute-type=')) env.COMPUTE_TYPE = arg.slice('--compute-type='.length);
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}\n${USAGE}`);
    else names.push(arg);
  }
  const config = loadConfig(env);
  const out = terminalOutput();
  if (command === 'list') {
    printList(config.modelDir, out, json);
    return 0;
  }
  if (command === 'pull') {
    if (names.length === 0) throw new Error(`name at least one model\n${USAGE}`);
    const { failed } = await pullModels(names, config, out);
    return failed.length === 0 ? 0 : 1;
  }
  console.log(USAGE);
  return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(error instanceof ConfigError ? error.message : `models: ${error.message}`);
      process.exit(2);
    },
  );
}
