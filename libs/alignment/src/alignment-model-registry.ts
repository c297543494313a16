import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Default alignment model per language: WhisperX's current table (whisperx/alignment.py,
 * DEFAULT_ALIGN_MODELS_TORCH + DEFAULT_ALIGN_MODELS_HF), torchaudio's bundles named by their
 * Hugging Face twins (wav2vec2 base 960h for English, VoxPopuli base 10k for fr/de/es/it).
 */
export const DEFAULT_ALIGNMENT_MODELS: Readonly<Record<string, string>> = {
  en: 'facebook/wav2vec2-base-960h',
  fr: 'facebook/wav2vec2-base-10k-voxpopuli-ft-fr',
  de: 'facebook/wav2vec2-base-10k-voxpopuli-ft-de',
  es: 'facebook/wav2vec2-base-10k-voxpopuli-ft-es',
  it: 'facebook/wav2vec2-base-10k-voxpopuli-ft-it',
  ja: 'jonatasgrosman/wav2vec2-large-xlsr-53-japanese',
  zh: 'jonatasgrosman/wav2vec2-large-xlsr-53-chinese-zh-cn',
  nl: 'jonatasgrosman/wav2vec2-large-xlsr-53-dutch',
  uk: 'Yehor/wav2vec2-xls-r-300m-uk-with-small-lm',
  pt: 'jonatasgrosman/wav2vec2-large-xlsr-53-portuguese',
  ar: 'jonatasgrosman/wav2vec2-large-xlsr-53-arabic',
  cs: 'comodoro/wav2vec2-xls-r-300m-cs-250',
  ru: 'jonatasgrosman/wav2vec2-large-xlsr-53-russian',
  pl: 'jonatasgrosman/wav2vec2-large-xlsr-53-polish',
  hu: 'jonatasgrosman/wav2vec2-large-xlsr-53-hungarian',
  fi: 'jonatasgrosman/wav2vec2-large-xlsr-53-finnish',
  fa: 'jonatasgrosman/wav2vec2-large-xlsr-53-persian',
  el: 'jonatasgrosman/wav2vec2-large-xlsr-53-greek',
  tr: 'mpoyraz/wav2vec2-xls-r-300m-cv7-turkish',
  da: 'saattrupdan/wav2vec2-xls-r-300m-ftspeech',
  he: 'imvladikon/wav2vec2-xls-r-300m-hebrew',
  // the older nguyenvulebinh/wav2vec2-base-vi has no CTC head (WhisperX moved off it)
  vi: 'nguyenvulebinh/wav2vec2-base-vi-vlsp2020',
  ko: 'kresnik/wav2vec2-large-xlsr-korean',
  ur: 'kingabzpro/wav2vec2-large-xls-r-300m-Urdu',
  te: 'anuragshas/wav2vec2-large-xlsr-53-telugu',
  hi: 'theainerd/Wav2Vec2-large-xlsr-hindi',
  ca: 'softcatala/wav2vec2-large-xlsr-catala',
  ml: 'gvs/wav2vec2-large-xlsr-malayalam',
  no: 'NbAiLab/nb-wav2vec2-1b-bokmaal-v2',
  nn: 'NbAiLab/nb-wav2vec2-1b-nynorsk',
  sk: 'comodoro/wav2vec2-xls-r-300m-sk-cv8',
  sl: 'anton-l/wav2vec2-large-xlsr-53-slovenian',
  hr: 'classla/wav2vec2-xls-r-parlaspeech-hr',
  ro: 'gigant/romanian-wav2vec2',
  eu: 'stefan-it/wav2vec2-large-xlsr-53-basque',
  gl: 'ifrz/wav2vec2-large-xlsr-galician',
  ka: 'xsway/wav2vec2-large-xlsr-georgian',
  lv: 'jimregan/wav2vec2-large-xlsr-latvian-cv',
  tl: 'Khalsuu/filipino-wav2vec2-l-xls-r-300m-official',
  sv: 'KBLab/wav2vec2-large-voxrex-swedish',
  id: 'cahya/wav2vec2-large-xlsr-indonesian',
};

/** Languages written without spaces: aligned character by character. */
export const CHARACTER_ALIGNED_LANGUAGES: ReadonlySet<string> = new Set(['ja', 'zh', 'yue', 'th', 'lo', 'my', 'km']);

/** Files of a wav2vec2 CTC model folder; model.onnx and vocab.json are required. */
export const ALIGNMENT_MODEL_FILES = { model: 'model.onnx', vocab: 'vocab.json', preprocessor: 'preprocessor_config.json', config: 'config.json' } as const;

export interface AlignmentModelLocation {
  language: string;
  /** MODEL_DIR (resolved): messages name dir relative to it */
  modelDir: string;
  /** MODEL_DIR/align/<lang> */
  dir: string;
  /** the model's name as reported in results (config.json "name", else the default table's repo) */
  name: string;
  /** repo of the default model for this language, when there is one */
  sourceRepo?: string;
  present: boolean;
}

/** Where the alignment model for a language lives (present or not). */
export function locateAlignmentModel(language: string, modelDir: string): AlignmentModelLocation {
  const root = resolve(modelDir);
  const dir = join(root, 'align', language);
  const present = existsSync(join(dir, ALIGNMENT_MODEL_FILES.model)) && existsSync(join(dir, ALIGNMENT_MODEL_FILES.vocab));
  const sourceRepo = DEFAULT_ALIGNMENT_MODELS[language];
  return { language, modelDir: root, dir, name: present ? (readConfiguredName(dir) ?? shortName(sourceRepo) ?? language) : (shortName(sourceRepo) ?? language), sourceRepo, present };
}

function shortName(repo: string | undefined): string | undefined {
  return repo?.split('/').pop();
}

function readConfiguredName(dir: string): string | undefined {
  try {
    const config = JSON.parse(readFileSync(join(dir, ALIGNMENT_MODEL_FILES.config), 'utf8')) as { name?: unknown; _name_or_path?: unknown };
    const name = typeof config.name === 'string' ? config.name : typeof config._name_or_path === 'string' ? config._name_or_path : undefined;
    return name ? name.split('/').pop() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Hugging Face repositories that publish ONNX exports of a model (transformers.js layout:
 * onnx/model.onnx beside vocab.json): Xenova's and onnx-community's conversions, tried in order.
 */
export function onnxExportCandidates(sourceRepo: string): string[] {
  const name = sourceRepo.split('/').pop() as string;
  return [`Xenova/${name}`, `onnx-community/${name}-ONNX`, `onnx-community/${name}`];
}
