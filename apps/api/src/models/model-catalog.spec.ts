import { ErrorCode, ServiceError, WorkerHeartbeat } from '@app/contracts';
import { assertKnownModel, buildModelCatalog } from './model-catalog';

function worker(id: string, extra: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat {
  return {
    worker_id: id,
    host: 'h',
    pid: 1,
    device: 'cpu',
    compute_type: 'int8',
    models: [],
    available_models: ['synthetic-tiny', 'small'],
    local_models: ['synthetic-tiny'],
    default_model: 'synthetic-tiny',
    busy: false,
    active_jobs: 0,
    ts: Date.now(),
    ...extra,
  };
}

const errorOf = (work: () => void): ServiceError => {
  try {
    work();
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('no error thrown');
};

describe('buildModelCatalog (GET /models)', () => {
  it('lists the official models, then custom files, with where each is on disk and in memory', () => {
    const a = worker('a', {
      rss_mb: 210.5,
      loaded_models: [
        { label: 'synthetic-tiny/ggml', kind: 'whisper', bytes: 77_000_000, in_use: 1, draining: false, name: 'synthetic-tiny' },
        { label: 'vad/silero', kind: 'vad', bytes: 2_000_000, in_use: 0, draining: false },
      ],
    });
    // an older worker: no local_models, no name on loaded models (read from the label)
    const b = worker('b', {
      local_models: undefined,
      available_models: ['synthetic-micro', 'small'],
      loaded_models: [{ label: 'small/int8', kind: 'whisper', bytes: 250_000_000, in_use: 0, draining: true }],
    });
    const catalog = buildModelCatalog([a, b]);
    const names = catalog.models.map((m) => m.name);
    expect(names.slice(0, 3)).toEqual(['tiny', 'tiny.en', 'base']);
    expect(names.slice(-2)).toEqual(['synthetic-micro', 'synthetic-tiny']);
    expect(catalog.models.find((m) => m.name === 'synthetic-tiny')).toEqual({
      name: 'synthetic-tiny',
      official: false,
      local_on: ['a'],
      loaded_on: [{ worker_id: 'a', label: 'synthetic-tiny/ggml', bytes: 77_000_000, in_use: 1, draining: false }],
    });
    expect(catalog.models.find((m) => m.name === 'small')).toMatchObject({ official: true, local_on: [], loaded_on: [{ worker_id: 'b', draining: true }] });
    expect(catalog.models.find((m) => m.name === 'synthetic-micro')).toMatchObject({ local_on: [], loaded_on: [] });
    expect(catalog.workers).toEqual([
      { worker_id: 'a', default_model: 'synthetic-tiny', rss_mb: 210.5, loaded_bytes: 79_000_000, loaded_models: a.loaded_models },
      { worker_id: 'b', default_model: 'synthetic-tiny', loaded_bytes: 250_000_000, loaded_models: b.loaded_models },
    ]);
  });

  it('without workers: the official models, nowhere', () => {
    const catalog = buildModelCatalog([]);
    expect(catalog.models).toHaveLength(12);
    expect(catalog.models.every((m) => m.official && m.loaded_on.length === 0)).toBe(true);
    expect(catalog.workers).toEqual([]);
  });
});

describe('assertKnownModel (POST /models/:name/load, DELETE /models/:name)', () => {
  const workers = [worker('a')];

  it('accepts official names and custom files a worker has', () => {
    expect(() => assertKnownModel('large-v3', workers)).not.toThrow();
    expect(() => assertKnownModel('synthetic-tiny', workers)).not.toThrow();
  });

  it('a well-formed name nobody has: unknown_model, naming the field', () => {
    const error = errorOf(() => assertKnownModel('my-model', workers));
    expect(error).toBeInstanceOf(ServiceError);
    expect({ code: error.code, field: error.field }).toEqual({ code: ErrorCode.UnknownModel, field: 'name' });
    expect(error.message).toMatch(/ggml-my-model\.bin/);
  });

  it.each(['../etc/passwd', '.hidden', 'a b', 'x'.repeat(65)])('a name that cannot be a model (%s): validation_failed', (name) => {
    expect(errorOf(() => assertKnownModel(name, workers)).code).toBe(ErrorCode.ValidationFailed);
  });
});
