/**
 * `npm run fixtures`: generates whisper.cpp models with random weights into MODEL_DIR
 * (default ./models). Real checkpoints are not downloadable here, so tests and
 * benchmarks run against these; names never match a real model's.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { isCompleteModel, writeWhisperModel } from './fixtures/ggml-whisper-writer';
import type { WhisperHparams } from './fixtures/ggml-whisper-writer';
import { writeToneCtcModel } from './fixtures/tone-ctc-model';
import { ensureDiarizationModels } from './fixtures/diarization-models';

export interface FixtureModel {
  file: string;
  hparams: WhisperHparams;
  seed: number;
}

/** Real whisper "tiny" architecture: honest speed figures, ~78 MB. */
const TINY: WhisperHparams = {
  nVocab: 51865, nAudioCtx: 1500, nAudioState: 384, nAudioHead: 6, nAudioLayer: 4,
  nTextCtx: 448, nTextState: 384, nTextHead: 6, nTextLayer: 4, nMels: 80, ftype: 1,
};

/**
 * Minimal dims for fast tests. n_audio_ctx stays 1500: a 30 s window is 3000 mel
 * frames, halved by conv2's stride, and timestamps are scaled by it.
 */
export const MICRO: WhisperHparams = {
  nVocab: 51865, nAudioCtx: 1500, nAudioState: 64, nAudioHead: 2, nAudioLayer: 1,
  nTextCtx: 448, nTextState: 64, nTextHead: 2, nTextLayer: 1, nMels: 80, ftype: 1,
};

export const FIXTURE_MODELS: readonly FixtureModel[] = [
  { file: 'ggml-synthetic-tiny.bin', hparams: TINY, seed: 1 },
  { file: 'ggml-synthetic-micro.bin', hparams: MICRO, seed: 2 },
  // n_vocab 51864 is how whisper.cpp recognises an English-only model.
  { file: 'ggml-synthetic-micro-en.bin', hparams: { ...MICRO, nVocab: 51864 }, seed: 3 },
];

type Log = (line: string) => void;

/** Creates any missing/incomplete fixture model; returns absolute paths of all of them. */
export async function ensureFixtureModels(modelDir: string, log: Log = () => undefined): Promise<string[]> {
  const dir = path.resolve(modelDir);
  await fs.mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const m of FIXTURE_MODELS) {
    const file = path.join(dir, m.file);
    if (await isCompleteModel(file, m.hparams)) {
      log(`skip   ${m.file} (already complete)`);
    } else {
      const t0 = process.hrtime.bigint();
      const bytes = await writeWhisperModel(file, m.hparams, { seed: m.seed });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      log(`wrote  ${m.file} ${(bytes / 1e6).toFixed(1)} MB in ${(ms / 1000).toFixed(2)} s`);
    }
    paths.push(file);
  }
  return paths;
}

/**
 * The designed CTC model (tones → characters) as the English alignment model, so align_words works
 * offline. Its config.json names it synthetic-tone-ctc; a real model placed there replaces it.
 */
export async function ensureToneAlignmentModel(modelDir: string, log: Log = () => undefined): Promise<string> {
  const dir = path.join(path.resolve(modelDir), 'align', 'en');
  const configPath = path.join(dir, 'config.json');
  const existing = await fs.readFile(configPath, 'utf8').then((text) => JSON.parse(text) as { name?: string }, () => undefined);
  if (existing && existing.name !== 'synthetic-tone-ctc') {
    log(`skip   align/en (holds ${existing.name ?? 'another model'})`);
    return dir;
  }
  const files = await writeToneCtcModel(dir);
  log(`wrote  align/en/model.onnx (synthetic-tone-ctc, ${(files.modelBytes / 1e3).toFixed(0)} kB)`);
  return dir;
}

async function main(): Promise<void> {
  const dir = process.env.MODEL_DIR || './models';
  const t0 = Date.now();
  await ensureFixtureModels(dir, (line) => console.log(line));
  await ensureToneAlignmentModel(dir, (line) => console.log(line));
  await ensureDiarizationModels(dir, (line) => console.log(line));
  console.log(`fixtures ready in ${path.resolve(dir)} (${((Date.now() - t0) / 1000).toFixed(2)} s)`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
