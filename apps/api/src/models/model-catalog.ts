import {
  CUSTOM_MODEL_NAME_PATTERN,
  ErrorCode,
  isOfficialWhisperModel,
  LoadedModelInfo,
  ModelCatalog,
  ModelCatalogEntry,
  OFFICIAL_WHISPER_MODELS,
  ServiceError,
  WorkerHeartbeat,
} from '@app/contracts';

/** The whisper model name a loaded entry was loaded for (older heartbeats: the label's first part). */
function whisperName(model: LoadedModelInfo): string {
  return model.name ?? model.label.split('/')[0];
}

/** Custom model names live workers know of: files in their MODEL_DIR, and whisper models they hold. */
function customNames(workers: readonly WorkerHeartbeat[]): string[] {
  const names = new Set<string>();
  for (const worker of workers) {
    for (const name of worker.available_models) names.add(name);
    for (const model of worker.loaded_models ?? []) if (model.kind === 'whisper') names.add(whisperName(model));
  }
  return [...names].filter((name) => !isOfficialWhisperModel(name)).sort();
}

/** GET /models from the live workers' heartbeats: official models first (in their table's order), then custom ones. */
export function buildModelCatalog(workers: readonly WorkerHeartbeat[]): ModelCatalog {
  const entry = (name: string): ModelCatalogEntry => ({
    name,
    official: isOfficialWhisperModel(name),
    local_on: workers.filter((w) => (w.local_models ?? []).includes(name)).map((w) => w.worker_id),
    loaded_on: workers.flatMap((w) =>
      (w.loaded_models ?? [])
        .filter((m) => m.kind === 'whisper' && whisperName(m) === name)
        .map((m) => ({ worker_id: w.worker_id, label: m.label, bytes: m.bytes, in_use: m.in_use, draining: m.draining })),
    ),
  });
  return {
    models: [...OFFICIAL_WHISPER_MODELS, ...customNames(workers)].map(entry),
    workers: workers.map((w) => ({
      worker_id: w.worker_id,
      default_model: w.default_model,
      ...(w.rss_mb !== undefined ? { rss_mb: w.rss_mb } : {}),
      loaded_bytes: (w.loaded_models ?? []).reduce((sum, m) => sum + m.bytes, 0),
      loaded_models: w.loaded_models ?? [],
    })),
  };
}

/**
 * The `:name` of POST /models/:name/load and DELETE /models/:name: an official model, or a custom
 * one a live worker has a file for (or holds). A name that cannot be a model is a 400
 * validation_failed; a well-formed one nobody knows is a 400 unknown_model, as on /transcribe.
 */
export function assertKnownModel(name: string, workers: readonly WorkerHeartbeat[]): void {
  assertModelName(name);
  if (isOfficialWhisperModel(name) || customNames(workers).includes(name)) return;
  throw new ServiceError(
    ErrorCode.UnknownModel,
    `unknown model "${name}": not an official model and no live worker has ggml-${name}.bin in its MODEL_DIR (GET /models lists the known ones)`,
    'name',
  );
}

/** A name that cannot be a model at all (a path, a space, too long): 400 validation_failed. */
export function assertModelName(name: string): void {
  if (!isOfficialWhisperModel(name) && !CUSTOM_MODEL_NAME_PATTERN.test(name)) {
    throw new ServiceError(
      ErrorCode.ValidationFailed,
      `"${name}" is not a model name: an official name (${OFFICIAL_WHISPER_MODELS.join(', ')}) or a custom one of letters, digits, ".", "_" and "-" (up to 64)`,
      'name',
    );
  }
}
