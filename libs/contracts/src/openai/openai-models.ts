import { OFFICIAL_WHISPER_MODELS } from '../models';
import type { WorkerHeartbeat } from '../workers';
import { OPENAI_DEFAULT_MODEL } from './openai-form';

/** One entry of GET /v1/models, as OpenAI's Model object. */
export interface OpenAiModel {
  id: string;
  object: 'model';
  /** Unix seconds; whisper's public release (2022-09-21) for every entry: no file date is exposed */
  created: number;
  /** `system` for the whisper-1 alias, `openai` for the official whisper weights, `local` for a custom ggml file */
  owned_by: 'system' | 'openai' | 'local';
}

export interface OpenAiModelList {
  object: 'list';
  data: OpenAiModel[];
}

export const WHISPER_RELEASE_UNIX_S = 1663718400;

const model = (id: string, owned_by: OpenAiModel['owned_by']): OpenAiModel => ({ id, object: 'model', created: WHISPER_RELEASE_UNIX_S, owned_by });

/**
 * GET /v1/models: whisper-1 (the workers' default model), every official model (present in a
 * worker's MODEL_DIR or downloaded on first use), and the custom models live workers have in
 * MODEL_DIR (their heartbeats' available_models).
 */
export function openAiModelList(workers: readonly WorkerHeartbeat[]): OpenAiModelList {
  const official = new Set<string>(OFFICIAL_WHISPER_MODELS);
  const custom = [...new Set(workers.flatMap((worker) => [...(worker.available_models ?? []), worker.default_model]))]
    .filter((name) => typeof name === 'string' && name !== '' && !official.has(name) && name !== OPENAI_DEFAULT_MODEL)
    .sort();
  return {
    object: 'list',
    data: [model(OPENAI_DEFAULT_MODEL, 'system'), ...OFFICIAL_WHISPER_MODELS.map((name) => model(name, 'openai')), ...custom.map((name) => model(name, 'local'))],
  };
}
