import type { ContentObject, ParameterObject, ReferenceObject, RequestBodyObject, ResponsesObject, SchemaObject, SecurityRequirementObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import {
  describeDetectLanguageOptions,
  describeOptions,
  ErrorCode,
  FORMAT_MEDIA,
  JOB_LIST_DEFAULT_LIMIT,
  JOB_LIST_MAX_LIMIT,
  JOB_LIST_STATUSES,
  FORMAT_OPTION_NAMES,
  OPENAI_RESPONSE_FORMATS,
  OPENAI_TRANSLATION_FORMATS,
  RESPONSE_FORMATS,
} from '@app/contracts';
import { ref } from './body-schemas';
import { multipartBody, optionProperties, optionSchema, queryParameters } from './option-schemas';
import { openAiTranscriptionFields, openAiTranslationFields } from './openai-forms';

/**
 * What each route does, takes and answers, keyed by "METHOD /path" as Nest maps it. The document
 * builder applies an entry to the route Nest has; a route without an entry is marked undocumented
 * (x-undocumented, a boot error log) and the OpenAPI e2e fails on it.
 */
export interface RouteDoc {
  tag: 'transcription' | 'jobs' | 'models' | 'openai' | 'health' | 'admin';
  summary: string;
  description?: string;
  body?: () => RequestBodyObject;
  query?: () => ParameterObject[];
  /** success responses (and non-error bodies such as /health's 503) */
  responses: () => ResponsesObject;
  /** the errors the route answers with, besides 401/403 (from the route's access level) */
  errors: readonly ErrorCode[];
  /** its path parameters, by name (every :name in the path needs one) */
  params?: Readonly<Record<string, ParameterObject>>;
  /** when the route checks a credential of its own rather than the access guard's */
  security?: SecurityRequirementObject[];
}

const mediaType = (contentType: string): string => contentType.split(';')[0].trim();

/** The JSON formats' schemas; every other format is text. */
const JSON_FORMAT_SCHEMAS: Readonly<Record<string, string>> = { json: 'Transcript', verbose_json: 'VerboseJson' };

/** A transcript in each response_format, by media type (json and verbose_json share application/json). */
function transcriptContent(formats: readonly string[], media: Readonly<Record<string, { contentType: string }>>, jsonSchemas = JSON_FORMAT_SCHEMAS): ContentObject {
  const content: ContentObject = {};
  const jsonRefs = new Map<string, (SchemaObject | ReferenceObject)[]>();
  for (const format of formats) {
    const type = mediaType(media[format].contentType);
    if (type === 'application/json') {
      jsonRefs.set(type, [...(jsonRefs.get(type) ?? []), jsonSchemas[format] ? ref(jsonSchemas[format]) : { type: 'object' }]);
    } else {
      content[type] = { schema: { type: 'string', description: `response_format=${format}` } };
    }
  }
  for (const [type, schemas] of jsonRefs) content[type] = { schema: schemas.length === 1 ? schemas[0] : { oneOf: schemas } };
  return content;
}

const CONTENT_DISPOSITION = {
  'Content-Disposition': {
    description: 'attachment; filename="<upload name>.<extension of the format>"',
    schema: { type: 'string' },
  },
};

const json = (schema: string, description: string) => ({ description, content: { 'application/json': { schema: ref(schema) } } });

const JOB_ID: Record<string, ParameterObject> = {
  id: { name: 'id', in: 'path', required: true, description: 'the job id POST /transcribe returned (a UUID)', schema: { type: 'string', format: 'uuid' } },
};
const MODEL_NAME: Record<string, ParameterObject> = {
  name: { name: 'name', in: 'path', required: true, description: 'an official model name (tiny … large-v3-turbo) or a custom <name>', schema: { type: 'string' } },
};
const MODEL_ID: Record<string, ParameterObject> = {
  id: { name: 'id', in: 'path', required: true, description: 'a model id from GET /v1/models', schema: { type: 'string' } },
};

/** Every upload can fail these ways, whichever route takes it. */
const UPLOAD_ERRORS: readonly ErrorCode[] = [
  ErrorCode.ValidationFailed, ErrorCode.MissingFile, ErrorCode.EmptyFile, ErrorCode.UnknownModel, ErrorCode.UnsupportedLanguage,
  ErrorCode.RequestTimeout, ErrorCode.UploadTooLarge, ErrorCode.AudioTooLong, ErrorCode.UnsupportedMediaType, ErrorCode.UnsupportedMedia,
  ErrorCode.InvalidAudio, ErrorCode.TooManyQueuedJobs, ErrorCode.JobCancelled, ErrorCode.NoWorkers, ErrorCode.RedisUnavailable,
  ErrorCode.ModelUnavailable, ErrorCode.DecodeTimeout, ErrorCode.Internal,
];
const JOB_ERRORS: readonly ErrorCode[] = [ErrorCode.JobNotFound, ErrorCode.RedisUnavailable, ErrorCode.Internal];

/** OpenAI's media types by format: ours, and diarized_json as JSON. */
const OPENAI_MEDIA: Readonly<Record<string, { contentType: string }>> = { ...FORMAT_MEDIA, diarized_json: FORMAT_MEDIA.json };
const OPENAI_JSON_SCHEMAS: Readonly<Record<string, string>> = { json: 'OpenAiTranscription', verbose_json: 'VerboseJson', diarized_json: 'OpenAiDiarizedTranscription' };

function openAiTranscriptResponses(formats: readonly string[], stream: boolean): ResponsesObject {
  const content = transcriptContent(formats, OPENAI_MEDIA, OPENAI_JSON_SCHEMAS);
  if (stream) {
    content['text/event-stream'] = {
      schema: {
        type: 'string',
        description: 'stream=true: `data: {"type":"transcript.text.delta","delta":"…"}` events, then `data: {"type":"transcript.text.done","text":"…"}`',
      },
    };
  }
  const headers = { 'X-Job-Id': { description: 'the job behind the answer: GET /jobs/{id}/result has the transcript in other formats', schema: { type: 'string' } } };
  return { '200': { description: 'The transcript in response_format', headers, content } };
}

/** A job on audio_url fails with these when the worker's download does (a sync request answers them). */
const AUDIO_URL_ERRORS = [ErrorCode.AudioUrlUnreachable, ErrorCode.AudioUrlRefused, ErrorCode.AudioUrlTimeout] as const;

export const ROUTE_DOCS: Readonly<Record<string, RouteDoc>> = {
  'POST /transcribe': {
    tag: 'transcription',
    summary: 'Transcribe an upload or an audio URL',
    description:
      'Synchronous by default: 200 with the transcript in `response_format` once the job is done. `async=true` (or a sync wait past SYNC_TIMEOUT_S) answers 202 with the job id; GET /jobs/{id} then has it.',
    body: () => multipartBody(optionProperties(describeOptions()), 'the audio in `file` (or its URL in `audio_url`) and the options (the options table: README "Options")'),
    responses: () => ({
      '200': { description: 'The transcript in response_format', headers: CONTENT_DISPOSITION, content: transcriptContent(RESPONSE_FORMATS, FORMAT_MEDIA) },
      '202': json('Accepted', 'Queued: async=true, or the transcript was not ready within SYNC_TIMEOUT_S'),
    }),
    errors: [...UPLOAD_ERRORS, ...AUDIO_URL_ERRORS],
  },
  'POST /detect-language': {
    tag: 'transcription',
    summary: 'Detect the spoken language',
    description: "whisper's language probabilities for the first speech in the file (up to 30 s from its start), without transcribing it. Synchronous.",
    body: () => multipartBody(optionProperties(describeDetectLanguageOptions()), 'the audio in `file` (or its URL in `audio_url`), the model and how many languages to list'),
    responses: () => ({ '200': json('DetectLanguage', 'The most probable language and the `top` ones') }),
    errors: [...UPLOAD_ERRORS, ...AUDIO_URL_ERRORS, ErrorCode.TranscriptionTimeout],
  },
  'GET /jobs': {
    tag: 'jobs',
    summary: "The caller's own jobs, newest first",
    description: "An API key lists the jobs it submitted (the admin token: every job), each as its view without the result. `next_cursor` pages on to older ones.",
    query: () => [
      { name: 'status', in: 'query', required: false, description: 'only jobs in this status', schema: { type: 'string', enum: [...JOB_LIST_STATUSES] } },
      { name: 'limit', in: 'query', required: false, description: 'jobs per page', schema: { type: 'integer', minimum: 1, maximum: JOB_LIST_MAX_LIMIT, default: JOB_LIST_DEFAULT_LIMIT } },
      { name: 'cursor', in: 'query', required: false, description: "the previous page's next_cursor", schema: { type: 'string' } },
    ],
    responses: () => ({ '200': json('JobList', 'A page of jobs') }),
    errors: [ErrorCode.ValidationFailed, ErrorCode.RedisUnavailable, ErrorCode.Internal],
  },
  'GET /jobs/:id/events': {
    tag: 'jobs',
    summary: "A job's progress as Server-Sent Events",
    description:
      '`queued` `{"position"}` (1 = next; recomputed while it waits, sent without an id), `active` `{"stage","percent"}`, `segment` `{"index","start","end","text"}` as each is decoded, then exactly one of `completed` (the job view with its result), `failed` or `cancelled` (the error body), and the response ends. ' +
      'Each event but `queued` has an `id:`; `Last-Event-ID` resumes after it with nothing lost or repeated (204 once the final event was seen, so EventSource stops). `: ping` comments every 15 s. An API key sees its own jobs only (others are 404).',
    query: () => [
      { name: 'Last-Event-ID', in: 'header', required: false, description: 'the id of the last event received', schema: { type: 'string' } },
      { name: 'last_event_id', in: 'query', required: false, description: 'the same, for EventSource polyfills that cannot set the header', schema: { type: 'string' } },
    ],
    responses: () => ({
      '200': { description: 'The event stream', content: { 'text/event-stream': { schema: { type: 'string', description: 'id: <stream id>\nevent: segment\ndata: {"index":0,"start":0,"end":2.5,"text":"…"}' } } } },
      '204': { description: 'Last-Event-ID names the final event: nothing more will come' },
    }),
    errors: [ErrorCode.ValidationFailed, ...JOB_ERRORS],
    params: JOB_ID,
  },
  'GET /jobs/:id': {
    tag: 'jobs',
    summary: "A job's state, progress and (once completed) result",
    description: 'An API key sees its own jobs only (others are 404); the admin token sees every job.',
    responses: () => ({ '200': json('JobView', 'The job') }),
    errors: JOB_ERRORS,
    params: JOB_ID,
  },
  'GET /jobs/:id/result': {
    tag: 'jobs',
    summary: "A completed job's transcript in a format",
    description: 'A download named after the upload. 409 job_not_completed until the job has completed.',
    query: () => {
      const formatOptions = describeOptions().filter((option) => (FORMAT_OPTION_NAMES as readonly string[]).includes(option.name));
      const responseFormat = formatOptions.find((option) => option.name === 'response_format');
      const alias: ParameterObject[] = responseFormat
        ? [{ name: 'format', in: 'query', required: false, description: 'the same as response_format (give one of the two)', schema: optionSchema(responseFormat) }]
        : [];
      return [...alias, ...queryParameters(formatOptions)];
    },
    responses: () => ({
      '200': { description: 'The transcript in the format', headers: CONTENT_DISPOSITION, content: transcriptContent(RESPONSE_FORMATS, FORMAT_MEDIA) },
    }),
    errors: [ErrorCode.ValidationFailed, ErrorCode.JobNotCompleted, ...JOB_ERRORS],
    params: JOB_ID,
  },
  'DELETE /jobs/:id': {
    tag: 'jobs',
    summary: 'Cancel a job',
    description: 'A queued job is removed, a running one is stopped between units of work; its audio is deleted.',
    responses: () => ({ '200': json('JobView', 'The job, cancelled') }),
    errors: [ErrorCode.JobFinished, ErrorCode.JobCancelled, ...JOB_ERRORS],
    params: JOB_ID,
  },
  'POST /gc': {
    tag: 'admin',
    summary: 'Workers unload their models',
    description: 'Every live worker drops its cached models and reports its memory before and after (admin token).',
    responses: () => ({ '200': json('GcResult', "Each worker's report") }),
    errors: [ErrorCode.RedisUnavailable, ErrorCode.Internal],
  },
  'GET /models': {
    tag: 'models',
    summary: 'Models: known, on disk and loaded, per worker',
    description: 'Official models and custom files live workers have; per model the workers with its file and with it in memory; per worker what it holds.',
    responses: () => ({ '200': json('ModelCatalog', 'The catalog') }),
    errors: [ErrorCode.RedisUnavailable, ErrorCode.Internal],
  },
  'POST /models/:name/load': {
    tag: 'models',
    summary: 'Every live worker loads a model',
    description: 'Downloads it where needed; each worker answers what it did (or timeout).',
    responses: () => ({ '200': json('ModelControlResponse', "Each worker's reply") }),
    errors: [ErrorCode.ValidationFailed, ErrorCode.UnknownModel, ErrorCode.NoWorkers, ErrorCode.RedisUnavailable, ErrorCode.Internal],
    params: MODEL_NAME,
  },
  'DELETE /models/:name': {
    tag: 'models',
    summary: 'Every live worker unloads a model',
    description: 'A copy a running job holds is freed when the job ends (models_pending).',
    responses: () => ({ '200': json('ModelControlResponse', "Each worker's reply") }),
    errors: [ErrorCode.ValidationFailed, ErrorCode.UnknownModel, ErrorCode.NoWorkers, ErrorCode.RedisUnavailable, ErrorCode.Internal],
    params: MODEL_NAME,
  },
  'GET /health': {
    tag: 'health',
    summary: 'Readiness: Redis answers and a worker is alive',
    description: 'Public. Workers, models and reasons are shown to a valid key (or to everyone when API_KEYS is unset).',
    responses: () => ({ '200': json('Health', 'Ready'), '503': json('Health', 'Not ready: Redis down or no worker heartbeat') }),
    errors: [],
  },
  'GET /health/live': {
    tag: 'health',
    summary: 'Liveness: the API process answers',
    responses: () => ({ '200': json('Live', 'Alive') }),
    errors: [],
  },
  'GET /metrics': {
    tag: 'health',
    summary: 'Prometheus metrics',
    description: 'Public like /health unless METRICS_TOKEN is set; then only that token opens it (API keys and the admin token do not).',
    responses: () => ({
      '200': { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string', description: 'text exposition format 0.0.4' } } } },
    }),
    errors: [ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.Internal],
    security: [{}, { metricsToken: [] }],
  },
  'GET /v1/models': {
    tag: 'openai',
    summary: 'Models (OpenAI)',
    description: 'whisper-1 (the workers\' default model), the official whisper models (downloaded on first use) and custom models in a worker\'s MODEL_DIR.',
    responses: () => ({ '200': json('OpenAiModelList', 'The models') }),
    errors: [ErrorCode.RedisUnavailable, ErrorCode.Internal],
  },
  'GET /v1/models/:id': {
    tag: 'openai',
    summary: 'One model (OpenAI)',
    responses: () => ({ '200': json('OpenAiModel', 'The model') }),
    errors: [ErrorCode.NotFound, ErrorCode.RedisUnavailable, ErrorCode.Internal],
    params: MODEL_ID,
  },
  'POST /v1/audio/transcriptions': {
    tag: 'openai',
    summary: 'Transcribe (OpenAI)',
    description:
      "OpenAI's transcription API: the official SDKs work with only baseURL and apiKey changed. Synchronous: 504 transcription_timeout past SYNC_TIMEOUT_S (the job goes on). Our options pass as extra fields.",
    body: () => multipartBody(openAiTranscriptionFields(), "the audio in `file`, OpenAI's fields and our extras"),
    responses: () => openAiTranscriptResponses(OPENAI_RESPONSE_FORMATS, true),
    errors: [...UPLOAD_ERRORS, ErrorCode.TranscriptionTimeout],
  },
  'POST /v1/audio/translations': {
    tag: 'openai',
    summary: 'Translate to English (OpenAI)',
    description:
      "OpenAI's translation API: speech in any language → English text (whisper's translate task). English is the only target language. Needs a multilingual model (not .en).",
    body: () => multipartBody(openAiTranslationFields(), "the audio in `file`, OpenAI's fields and our extras"),
    responses: () => openAiTranscriptResponses(OPENAI_TRANSLATION_FORMATS, false),
    errors: [...UPLOAD_ERRORS, ErrorCode.TranscriptionTimeout],
  },
};
