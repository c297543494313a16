import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ErrorCode, PublicJobStatus } from '@app/contracts';

/**
 * JSON Schemas of the bodies the API answers with, as OpenAPI components. They describe the types
 * in libs/contracts (http.ts, jobs.ts, errors.ts, openai/): the e2e checks real answers against
 * them, so a field renamed there and not here fails a test.
 */

/** A reference to one of BODY_SCHEMAS (the document's components.schemas). */
export const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });

const num = (description?: string): SchemaObject => ({ type: 'number', ...(description ? { description } : {}) });
const str = (description?: string): SchemaObject => ({ type: 'string', ...(description ? { description } : {}) });
const int = (description?: string): SchemaObject => ({ type: 'integer', ...(description ? { description } : {}) });

const PUBLIC_JOB_STATUSES: PublicJobStatus[] = ['queued', 'active', 'completed', 'failed', 'cancelled'];

const WORD: SchemaObject = {
  type: 'object',
  required: ['word', 'start', 'end', 'score'],
  properties: {
    word: str(),
    start: num('seconds'),
    end: num('seconds'),
    score: num('alignment (or decoder) confidence, 0..1'),
    speaker: str('with diarize=true'),
    speaker_nearest: { type: 'boolean', description: 'no diarization turn overlapped the word: the nearest turn\'s speaker' },
    interpolated: { type: 'boolean', description: 'time interpolated (alignment could not place the word)' },
  },
};

const SEGMENT: SchemaObject = {
  type: 'object',
  required: ['id', 'start', 'end', 'text', 'avg_logprob', 'no_speech_prob', 'words'],
  properties: {
    id: int(),
    start: num('seconds'),
    end: num('seconds'),
    text: str(),
    speaker: str('with diarize=true'),
    avg_logprob: num(),
    no_speech_prob: num(),
    words: { type: 'array', items: ref('Word') },
  },
};

const STAGE_STATUS = (extra: Record<string, SchemaObject> = {}): SchemaObject => ({
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['ok', 'unavailable'] }, model: str(), reason: str(), ...extra },
});

const DECODING: SchemaObject = {
  type: 'object',
  description: 'the decoding and VAD options as they took effect, and what whisper.cpp was given',
  properties: {
    task: { type: 'string', enum: ['transcribe', 'translate'] },
    language: str('the language decoded in (forced or detected)'),
    temperature: { type: 'array', items: num(), description: 'the temperatures whisper.cpp may try, in order' },
    beam_size: int(),
    best_of: int(),
    no_speech_threshold: num(),
    condition_on_previous_text: { type: 'boolean' },
    vad: {
      type: 'object',
      description: 'VAD cut & merge (absent with vad=false)',
      properties: {
        onset: num(), offset: num(), chunk_size: num(),
        chunks: { type: 'array', items: { type: 'object', required: ['start', 'end'], properties: { start: num(), end: num() } } },
      },
    },
    whisper_params: { type: 'object', additionalProperties: true, description: 'read back from the whisper_full_params of the first decoding call' },
  },
};

const RESULT_PROPERTIES: Record<string, SchemaObject> = {
  job_id: str(),
  language: str('ISO-639-1 code'),
  language_probability: num(),
  duration: num('seconds of audio'),
  model: str('the whisper model that decoded it'),
  segments: { type: 'array', items: ref('Segment') },
  word_segments: { type: 'array', items: ref('Word') },
  alignment: STAGE_STATUS({ words_aligned: int(), words_interpolated: int() }),
  diarization: STAGE_STATUS({
    turns: { type: 'array', items: { type: 'object', required: ['start', 'end', 'speaker'], properties: { start: num(), end: num(), speaker: str() } } },
  }),
  speakers: { type: 'array', items: { type: 'object', required: ['id', 'speech_seconds'], properties: { id: str(), speech_seconds: num() } } },
  decoding: DECODING,
  timings_ms: { type: 'object', additionalProperties: { type: 'number' }, description: 'milliseconds per stage' },
};
const RESULT_REQUIRED = ['job_id', 'language', 'language_probability', 'duration', 'model', 'segments', 'word_segments', 'timings_ms'];

/** A finished job's result as stored (GET /jobs/:id's `result`). */
const TRANSCRIPTION_RESULT: SchemaObject = { type: 'object', required: RESULT_REQUIRED, properties: RESULT_PROPERTIES };

/** `json` (the default response_format): the stored result plus a top-level `text`. */
const TRANSCRIPT: SchemaObject = {
  type: 'object',
  required: [...RESULT_REQUIRED, 'text'],
  properties: { ...RESULT_PROPERTIES, text: str('the whole transcript: segments\' text joined by single spaces') },
};

/** OpenAI's verbose_json (response_format=verbose_json on both routes). */
const VERBOSE_JSON: SchemaObject = {
  type: 'object',
  required: ['task', 'language', 'duration', 'text', 'segments'],
  properties: {
    task: { type: 'string', enum: ['transcribe', 'translate'] },
    language: str('the language\'s English name, as OpenAI writes it ("english")'),
    duration: num(),
    text: str(),
    segments: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'seek', 'start', 'end', 'text', 'tokens', 'temperature', 'avg_logprob', 'compression_ratio', 'no_speech_prob'],
        properties: {
          id: int(), seek: int(), start: num(), end: num(), text: str(), tokens: { type: 'array', items: { type: 'integer' } },
          temperature: num(), avg_logprob: num(), compression_ratio: num(), no_speech_prob: num(), speaker: str(),
        },
      },
    },
    words: {
      type: 'array',
      description: 'with timestamp_granularities[]=word only (on /v1; always on POST /transcribe)',
      items: { type: 'object', required: ['word', 'start', 'end'], properties: { word: str(), start: num(), end: num() } },
    },
    usage: ref('OpenAiUsage'),
  },
};

/** A model in a worker's memory. */
const LOADED_MODEL: SchemaObject = {
  type: 'object',
  required: ['label', 'kind', 'bytes', 'in_use', 'draining'],
  properties: {
    label: str('e.g. "small/int8", "vad/silero"'),
    kind: { type: 'string', enum: ['whisper', 'vad', 'align', 'diarize'] },
    bytes: int(),
    in_use: int('jobs holding it now'),
    draining: { type: 'boolean', description: 'out of the cache, freed when the jobs holding it finish' },
    name: str('whisper models: the model name it was loaded for, e.g. "small"'),
  },
};

const HEALTH_WORKER: SchemaObject = {
  type: 'object',
  required: ['worker_id', 'device', 'models', 'busy', 'last_seen_ms'],
  properties: {
    worker_id: str(),
    device: str(),
    models: { type: 'array', items: str() },
    loaded_models: { type: 'array', items: LOADED_MODEL },
    rss_mb: num(),
    busy: { type: 'boolean' },
    last_seen_ms: int(),
  },
};

export const BODY_SCHEMAS = {
  ErrorBody: {
    type: 'object',
    required: ['error'],
    description: 'every error of our own routes',
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', enum: Object.values(ErrorCode), description: 'machine-readable; the HTTP status follows from it' },
          message: str('for people: what is wrong and what to do'),
          field: str('the form field, query parameter or path parameter at fault'),
          error_id: str('500s only: the id of the log line with the details'),
        },
      },
    },
  },
  OpenAiErrorBody: {
    type: 'object',
    required: ['error'],
    description: 'every error under /v1, in OpenAI\'s shape (the SDKs raise their own error classes from it)',
    properties: {
      error: {
        type: 'object',
        required: ['message', 'type', 'param', 'code'],
        properties: {
          message: str(),
          type: { type: 'string', enum: ['invalid_request_error', 'authentication_error', 'permission_error', 'not_found_error', 'rate_limit_error', 'server_error'] },
          param: { type: 'string', nullable: true, description: 'the field at fault (OpenAI\'s name for it)' },
          code: { type: 'string', enum: Object.values(ErrorCode), description: 'our error code' },
          error_id: str('500s only'),
        },
      },
    },
  },
  Word: WORD,
  Segment: SEGMENT,
  TranscriptionResult: TRANSCRIPTION_RESULT,
  Transcript: TRANSCRIPT,
  VerboseJson: VERBOSE_JSON,
  Accepted: {
    type: 'object',
    required: ['job_id', 'status', 'status_url'],
    properties: { job_id: str(), status: { type: 'string', enum: ['queued'] }, status_url: str('GET it for the job\'s state and, once completed, its result') },
  },
  JobView: {
    type: 'object',
    required: ['job_id', 'status', 'progress', 'stage'],
    properties: {
      job_id: str(),
      status: { type: 'string', enum: PUBLIC_JOB_STATUSES },
      progress: num('0..100'),
      stage: str(),
      download: {
        type: 'object',
        required: ['file', 'received_bytes'],
        description: 'while stage is downloading_model',
        properties: { file: str(), received_bytes: int(), total_bytes: int(), percent: num() },
      },
      result: ref('TranscriptionResult'),
      error: { type: 'object', required: ['code', 'message'], properties: { code: str(), message: str(), field: str(), error_id: str() } },
    },
  },
  JobSummary: {
    type: 'object',
    required: ['job_id', 'status', 'stage', 'progress', 'created_at'],
    description: 'a job as GET /jobs lists it: its view without the result',
    properties: {
      job_id: str(),
      status: { type: 'string', enum: PUBLIC_JOB_STATUSES },
      stage: str(),
      progress: num('0..100'),
      created_at: { type: 'string', format: 'date-time' },
      started_at: { type: 'string', format: 'date-time', description: 'when a worker took it' },
      finished_at: { type: 'string', format: 'date-time', description: 'when it completed, failed or its worker stopped it' },
      file_name: str('the upload\'s name'),
      duration: num('seconds of audio, once completed'),
      language: str('once completed'),
      error: { type: 'object', required: ['code', 'message'], properties: { code: str(), message: str(), field: str(), error_id: str() } },
    },
  },
  JobList: {
    type: 'object',
    required: ['jobs'],
    properties: {
      jobs: { type: 'array', items: ref('JobSummary'), description: 'newest first' },
      next_cursor: str('pass as `cursor` for the next (older) page; absent on the last page'),
    },
  },
  Health: {
    type: 'object',
    required: ['status'],
    description: 'without a valid key while API_KEYS is set: `status` only',
    properties: {
      status: { type: 'string', enum: ['ok', 'unavailable'] },
      redis: { type: 'string', enum: ['up', 'down'] },
      workers: { type: 'array', items: HEALTH_WORKER },
      reason: str('why not ready'),
    },
  },
  Live: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } },
  GcResult: {
    type: 'object',
    required: ['workers'],
    properties: {
      workers: {
        type: 'array',
        items: {
          type: 'object',
          required: ['worker_id'],
          description: 'the worker\'s report, or {worker_id, status: "timeout"} when it did not answer within GC_TIMEOUT_MS',
          properties: {
            worker_id: str(), status: { type: 'string', enum: ['timeout'] }, models_unloaded: int(), models_pending: int(), rss_mb_before: num(), rss_mb_after: num(),
          },
        },
      },
    },
  },
  DetectLanguage: {
    type: 'object',
    required: ['language', 'language_name', 'probability', 'languages', 'speech_start', 'duration', 'model', 'job_id'],
    properties: {
      language: { type: 'string', nullable: true, description: 'the most probable language (ISO-639-1); null when the file has no speech' },
      language_name: { type: 'string', nullable: true, description: 'its English name as whisper spells it ("english")' },
      probability: num(),
      languages: {
        type: 'array',
        description: 'the `top` most probable languages, most probable first',
        items: { type: 'object', required: ['language', 'probability', 'name'], properties: { language: str(), probability: num(), name: str() } },
      },
      speech_start: { type: 'number', nullable: true, description: 'seconds; where detection read from (null: no speech found)' },
      duration: num('seconds of audio in the file'),
      model: str(),
      job_id: str(),
    },
  },
  ModelCatalog: {
    type: 'object',
    required: ['models', 'workers'],
    properties: {
      models: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'official', 'local_on', 'loaded_on'],
          properties: {
            name: str(),
            official: { type: 'boolean', description: 'an official model (downloaded on first use), else a custom ggml-<name>.bin in MODEL_DIR' },
            local_on: { type: 'array', items: str(), description: 'workers with its file in MODEL_DIR' },
            loaded_on: {
              type: 'array',
              items: {
                type: 'object',
                required: ['worker_id', 'label', 'bytes', 'in_use', 'draining'],
                properties: { worker_id: str(), label: str(), bytes: int(), in_use: int(), draining: { type: 'boolean' } },
              },
            },
          },
        },
      },
      workers: {
        type: 'array',
        items: {
          type: 'object',
          required: ['worker_id', 'default_model', 'loaded_bytes', 'loaded_models'],
          properties: { worker_id: str(), default_model: str(), rss_mb: num(), loaded_bytes: int(), loaded_models: { type: 'array', items: LOADED_MODEL } },
        },
      },
    },
  },
  ModelControlResponse: {
    type: 'object',
    required: ['model', 'action', 'workers'],
    properties: {
      model: str(),
      action: { type: 'string', enum: ['load', 'unload'] },
      workers: {
        type: 'array',
        items: {
          type: 'object',
          required: ['worker_id', 'action', 'model', 'status'],
          description: "each live worker's reply, or status timeout when it did not answer in time",
          properties: {
            worker_id: str(),
            action: { type: 'string', enum: ['load', 'unload'] },
            model: str(),
            status: { type: 'string', enum: ['loaded', 'already_loaded', 'unloaded', 'not_loaded', 'error', 'timeout'] },
            label: str(),
            bytes: int(),
            load_ms: int(),
            models_unloaded: int(),
            models_pending: int(),
            rss_mb_before: num(),
            rss_mb_after: num(),
            error: { type: 'object', required: ['code', 'message'], properties: { code: str(), message: str() } },
          },
        },
      },
    },
  },
  OpenAiUsage: { type: 'object', required: ['type', 'seconds'], properties: { type: { type: 'string', enum: ['duration'] }, seconds: int('audio seconds, rounded up') } },
  OpenAiTranscription: { type: 'object', required: ['text'], properties: { text: str(), usage: ref('OpenAiUsage') } },
  OpenAiDiarizedTranscription: {
    type: 'object',
    required: ['task', 'duration', 'text', 'segments'],
    properties: {
      task: { type: 'string', enum: ['transcribe'] },
      duration: num(),
      text: str(),
      segments: {
        type: 'array',
        items: {
          type: 'object',
          required: ['type', 'id', 'start', 'end', 'speaker', 'text'],
          properties: { type: { type: 'string', enum: ['transcript.text.segment'] }, id: str(), start: num(), end: num(), speaker: str(), text: str() },
        },
      },
      usage: ref('OpenAiUsage'),
    },
  },
  OpenAiModel: {
    type: 'object',
    required: ['id', 'object', 'created', 'owned_by'],
    properties: { id: str(), object: { type: 'string', enum: ['model'] }, created: int('Unix seconds'), owned_by: { type: 'string', enum: ['system', 'openai', 'local'] } },
  },
  OpenAiModelList: {
    type: 'object',
    required: ['object', 'data'],
    properties: { object: { type: 'string', enum: ['list'] }, data: { type: 'array', items: ref('OpenAiModel') } },
  },
} satisfies Record<string, SchemaObject>;
