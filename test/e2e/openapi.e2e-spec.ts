/**
 * The OpenAPI document (issue 12, item 4) against the running API and a worker: it validates as
 * OpenAPI 3 (@seriousme/openapi-schema-validator, offline), it covers every route Nest mapped (read
 * from the API's own "Mapped {…} route" log lines, so a route added without documentation fails
 * here), every option of the options table is a form field with the table's type, default and
 * range, the /v1 forms list OpenAI's fields, and real answers (JSON bodies, errors, text formats)
 * match what the document says. Swagger UI is served from the API itself (no CDN).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  describeDetectLanguageOptions,
  describeOptions,
  ERROR_HTTP_STATUS,
  ErrorCode,
  FORMAT_OPTION_NAMES,
  OPENAI_EXTRA_FIELDS,
  OPENAI_RESPONSE_FORMATS,
  OPENAI_TIMESTAMP_GRANULARITIES,
  OptionDescription,
} from '@app/contracts';
import { JFK_WAV } from '../support/samples';
import { freePort, postTranscribe, prepareRedis, RunningProcess, startApi, startWorker, waitFor } from '../support/service-harness';

const KEY = 'openapi-key-1';
const auth = { authorization: `Bearer ${KEY}` };
const LIST_ITEMS = 'x-comma-separated-items';

type Schema = Record<string, any>;

/**
 * @seriousme/openapi-schema-validator (the official OpenAPI 3.0/3.1 JSON Schemas, offline) is an
 * ES module, which jest's CommonJS runtime cannot load: it runs in a node child of its own.
 */
function validateOpenApi(document: Schema): { valid: boolean; errors?: unknown } {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const result = await new Validator().validate(JSON.parse(input));
    process.stdout.write(JSON.stringify({ valid: result.valid, errors: result.errors }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { input: JSON.stringify(document), cwd: __dirname }).toString());
}

/** The routes Nest's RouterExplorer logged at boot: "Mapped {/jobs/:id, GET} route". */
function mappedRoutes(log: string): string[] {
  // eslint-disable-next-line no-control-regex
  const plain = log.replace(/\u001b\[[0-9;]*m/g, '');
  return [...plain.matchAll(/Mapped \{([^,}]+), ([A-Z]+)\} route/g)].map(([, path, method]) => `${method} ${path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
}

function operations(document: Schema): { key: string; path: string; method: string; operation: Schema }[] {
  return Object.entries(document.paths as Schema).flatMap(([path, item]) =>
    Object.entries(item as Schema).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, path, method, operation })),
  );
}

/**
 * Problems of a value against a documented schema: types, enums, required properties, nested
 * properties and items, oneOf; $refs resolved in the document. Enough to catch a renamed or
 * missing field; not a full JSON Schema validator.
 */
function schemaProblems(document: Schema, schema: Schema, value: unknown, at = '$'): string[] {
  if (schema.$ref) return schemaProblems(document, document.components.schemas[String(schema.$ref).split('/').pop()!], value, at);
  if (schema.oneOf) {
    const fits = (schema.oneOf as Schema[]).filter((option) => schemaProblems(document, option, value, at).length === 0);
    return fits.length === 1 ? [] : [`${at}: matches ${fits.length} of oneOf`];
  }
  if (value === null) return schema.nullable ? [] : [`${at}: null`];
  const type = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  const fits = schema.type === undefined || schema.type === type || (schema.type === 'number' && type === 'integer');
  if (!fits) return [`${at}: ${type}, documented ${schema.type}`];
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} not in the documented enum`];
  const problems: string[] = [];
  if (type === 'object') {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (!(name in object)) problems.push(`${at}.${name}: required, missing`);
    for (const [name, property] of Object.entries((schema.properties ?? {}) as Schema)) {
      if (name in object) problems.push(...schemaProblems(document, property, object[name], `${at}.${name}`));
    }
    // every field the API sends is documented (additionalProperties only where the schema says so)
    if (schema.properties && !schema.additionalProperties) {
      for (const name of Object.keys(object)) if (!(name in schema.properties)) problems.push(`${at}.${name}: not documented`);
    }
  }
  if (type === 'array' && schema.items) (value as unknown[]).forEach((item, index) => problems.push(...schemaProblems(document, schema.items, item, `${at}[${index}]`)));
  return problems;
}

/** The documented schema of an answer: the operation's response for the status and media type. */
function documentedSchema(document: Schema, key: string, status: number, mediaType = 'application/json'): Schema {
  const operation = operations(document).find((entry) => entry.key === key)?.operation;
  const response = operation?.responses?.[String(status)];
  expect(response).toBeDefined();
  const schema = response.content?.[mediaType]?.schema;
  expect(schema).toBeDefined();
  return schema;
}

/** A documented form field matches the option it comes from: type, default, range, values, pattern. */
function expectOptionField(field: Schema | undefined, option: OptionDescription): void {
  expect(field).toBeDefined();
  const list = Array.isArray(option.default) || option.items !== undefined || option.maxItems !== undefined;
  const rules = list ? field![LIST_ITEMS] : field;
  if (list) expect(field!.type).toBe('string');
  else expect(field!.type).toBe({ int: 'integer', bool: 'boolean' }[option.type as string] ?? (option.minimum !== undefined ? 'number' : 'string'));
  expect(field!.default).toEqual(Array.isArray(option.default) ? option.default.join(',') : option.default);
  expect(rules?.minimum).toBe(option.minimum);
  expect(rules?.maximum).toBe(option.maximum);
  expect(rules?.pattern).toBe(option.pattern);
  expect(rules?.enum).toEqual(option.enum ?? option.items);
  expect(rules?.maxItems).toBe(list ? option.maxItems : undefined);
  expect(field!.description).toContain(option.doc);
  if (option.default === undefined && option.unset) expect(field!.description).toContain(option.unset);
}

describe('OpenAPI document and Swagger UI', () => {
  let api: RunningProcess;
  let worker: RunningProcess;
  let base: string;
  let document: Schema;
  const jfk = readFileSync(JFK_WAV);

  beforeAll(async () => {
    await prepareRedis();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    worker = startWorker({ WHISPER_MODEL: 'synthetic-micro' });
    api = startApi(port, { WHISPER_MODEL: 'synthetic-micro', API_KEYS: KEY });
    await waitFor('a healthy worker', async () => {
      const response = await fetch(`${base}/health`, { headers: auth });
      const body = response.ok ? ((await response.json()) as { workers?: unknown[] }) : undefined;
      return body?.workers?.length ? true : undefined;
    }, 90_000);
    // public: no key, although API_KEYS is set
    const response = await fetch(`${base}/docs/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    document = (await response.json()) as Schema;
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
  });

  it('validates as OpenAPI 3 (and the validator does refuse a broken document)', () => {
    expect(document.openapi).toMatch(/^3\./);
    const result = validateOpenApi(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);

    const broken = structuredClone(document);
    broken.paths['/transcribe'].post.responses['200'] = { content: {} }; // a response without its description
    expect(validateOpenApi(broken).valid).toBe(false);
  });

  it('documents every route Nest mapped, and nothing else', () => {
    const mapped = mappedRoutes(api.output());
    // the routes this service has had since issue 12 (more may come: they are compared below)
    for (const route of ['POST /transcribe', 'GET /jobs/{id}', 'DELETE /jobs/{id}', 'GET /jobs/{id}/result', 'POST /gc', 'GET /health', 'GET /health/live',
      'GET /v1/models', 'GET /v1/models/{id}', 'POST /v1/audio/transcriptions']) {
      expect(mapped).toContain(route);
    }
    const documented = operations(document).map((entry) => entry.key);
    expect([...documented].sort()).toEqual([...new Set(mapped)].sort());
    expect(api.output()).not.toMatch(/routes without documentation/);
  });

  it('describes every operation: summary, success and error responses with the error body and an example per code', async () => {
    for (const { key, path, method, operation } of operations(document)) {
      const where = `${key}: `;
      expect(`${where}${operation['x-undocumented'] ? 'undocumented' : 'documented'}`).toBe(`${where}documented`);
      expect(`${where}${typeof operation.summary}`).toBe(`${where}string`);
      const statuses = Object.keys(operation.responses).map(Number);
      expect(statuses.some((status) => status >= 200 && status < 300)).toBe(true);
      for (const [status, response] of Object.entries(operation.responses as Schema)) {
        if (Number(status) < 400 || key === 'GET /health') continue;
        const content = response.content['application/json'];
        expect(content.schema.$ref).toBe(path.startsWith('/v1/') ? '#/components/schemas/OpenAiErrorBody' : '#/components/schemas/ErrorBody');
        const examples = Object.values(content.examples as Schema);
        expect(examples.length).toBeGreaterThan(0);
        for (const { value } of examples) {
          expect(ERROR_HTTP_STATUS[value.error.code as ErrorCode]).toBe(Number(status));
          expect(schemaProblems(document, content.schema, value)).toEqual([]);
        }
      }
      // the documented security is the real one: without a key (API_KEYS is set) a secured route refuses, an open one does not
      const open = (operation.security as Schema[]).some((requirement) => Object.keys(requirement).length === 0);
      const response = await fetch(`${base}${path.replace(/\{[^}]+\}/g, '0b8e7a52-5f4c-4b7e-9d1a-2c3f4e5a6b7c')}`, { method: method.toUpperCase() });
      if (open) {
        expect(`${where}${response.status}`).not.toMatch(/: 40[13]$/);
      } else {
        expect(`${where}${response.status}`).toMatch(/: 40[13]$/);
        expect(statuses).toEqual(expect.arrayContaining([401, 403]));
      }
    }
    // the upload routes document their refusals, the jobs routes theirs
    const statusesOf = (key: string) => Object.keys(operations(document).find((entry) => entry.key === key)!.operation.responses).map(Number);
    expect(statusesOf('POST /transcribe')).toEqual(expect.arrayContaining([200, 202, 400, 401, 403, 413, 415, 429, 503]));
    expect(statusesOf('POST /v1/audio/transcriptions')).toEqual(expect.arrayContaining([200, 400, 401, 403, 413, 415, 429, 503, 504]));
    expect(statusesOf('GET /jobs/{id}')).toEqual(expect.arrayContaining([200, 404]));
    expect(statusesOf('GET /jobs/{id}/result')).toEqual(expect.arrayContaining([200, 404, 409]));
    expect(statusesOf('GET /v1/models/{id}')).toEqual(expect.arrayContaining([200, 404]));
  });

  it('POST /transcribe: a multipart form with the binary file and every option of the table, as the table says', () => {
    const body = document.paths['/transcribe'].post.requestBody;
    expect(Object.keys(body.content)).toEqual(['multipart/form-data']);
    const form = body.content['multipart/form-data'].schema;
    // file or audio_url: exactly one, which the API checks (neither is required on its own)
    expect(form.required).toBeUndefined();
    expect(form.properties.file).toMatchObject({ type: 'string', format: 'binary' });
    expect(form.properties.audio_url).toMatchObject({ type: 'string' });
    const options = describeOptions();
    expect(options.length).toBeGreaterThan(10);
    for (const option of options) expectOptionField(form.properties[option.name], option);
    expect(Object.keys(form.properties).sort()).toEqual(['file', ...options.map((option) => option.name)].sort());
  });

  it('POST /detect-language: the binary file and its own options table', () => {
    const form = document.paths['/detect-language'].post.requestBody.content['multipart/form-data'].schema;
    expect(form.properties.file).toMatchObject({ type: 'string', format: 'binary' });
    const options = describeDetectLanguageOptions();
    for (const option of options) expectOptionField(form.properties[option.name], option);
    expect(Object.keys(form.properties).sort()).toEqual(['file', ...options.map((option) => option.name)].sort());
  });

  it('GET /jobs/{id}/result: the format options as query parameters, as the table says', () => {
    const parameters = document.paths['/jobs/{id}/result'].get.parameters as Schema[];
    expect(parameters.find((parameter) => parameter.name === 'id')).toMatchObject({ in: 'path', required: true });
    for (const name of FORMAT_OPTION_NAMES) {
      const option = describeOptions().find((candidate) => candidate.name === name)!;
      expectOptionField(parameters.find((parameter) => parameter.name === name && parameter.in === 'query')?.schema, option);
    }
    expect(parameters.find((parameter) => parameter.name === 'format')?.schema.enum).toEqual(describeOptions().find((option) => option.name === 'response_format')!.enum);
  });

  it("the /v1 forms: OpenAI's fields, then our extras exactly as on POST /transcribe", () => {
    const transcriptions = document.paths['/v1/audio/transcriptions'].post.requestBody.content['multipart/form-data'].schema;
    const fields = transcriptions.properties;
    expect(transcriptions.required).toEqual(['file']);
    expect(fields.file).toMatchObject({ type: 'string', format: 'binary' });
    for (const name of ['model', 'language', 'prompt', 'response_format', 'temperature', 'timestamp_granularities', 'stream']) expect(fields).toHaveProperty(name);
    expect(fields.model.default).toBe('whisper-1');
    expect(fields.response_format.enum).toEqual([...OPENAI_RESPONSE_FORMATS]);
    expect(fields.response_format.default).toBe('json');
    expect(fields.temperature).toMatchObject({ type: 'number', minimum: 0, maximum: 1 });
    expect(fields.timestamp_granularities).toMatchObject({ type: 'array', items: { enum: [...OPENAI_TIMESTAMP_GRANULARITIES] } });
    expect(fields.stream.type).toBe('boolean');
    // language and prompt take our options' ranges
    const option = (name: string) => describeOptions().find((candidate) => candidate.name === name)!;
    expect(fields.language.enum).toEqual(option('language').enum);
    expect(fields.prompt.pattern).toBe(option('initial_prompt').pattern);
    const ours = document.paths['/transcribe'].post.requestBody.content['multipart/form-data'].schema.properties;
    for (const name of OPENAI_EXTRA_FIELDS) expect(fields[name]).toEqual(ours[name]);

    if (document.paths['/v1/audio/translations']) {
      const translations = document.paths['/v1/audio/translations'].post.requestBody.content['multipart/form-data'].schema.properties;
      for (const name of ['file', 'model', 'prompt', 'response_format', 'temperature']) expect(translations).toHaveProperty(name);
      // OpenAI's translations have no language, timestamps or stream
      for (const name of ['language', 'timestamp_granularities', 'stream']) expect(translations).not.toHaveProperty(name);
      expect(translations.response_format.enum).not.toContain('diarized_json');
    }
  });

  it('real answers match the documented schemas: transcript, job, health, models, errors in both shapes', async () => {
    const sync = await postTranscribe(base, jfk, {}, 'jfk.wav', auth);
    expect(sync.status).toBe(200);
    expect(schemaProblems(document, documentedSchema(document, 'POST /transcribe', 200), sync.body)).toEqual([]);

    const verbose = await postTranscribe(base, jfk, { response_format: 'verbose_json' }, 'jfk.wav', auth);
    expect(verbose.status).toBe(200);
    expect(schemaProblems(document, documentedSchema(document, 'POST /transcribe', 200), verbose.body)).toEqual([]);

    const queued = await postTranscribe(base, jfk, { async: 'true' }, 'jfk.wav', auth);
    expect(queued.status).toBe(202);
    expect(schemaProblems(document, documentedSchema(document, 'POST /transcribe', 202), queued.body)).toEqual([]);
    const job = await waitFor('the async job', async () => {
      const response = await fetch(`${base}/jobs/${queued.body.job_id}`, { headers: auth });
      const body = (await response.json()) as Schema;
      return body.status === 'completed' ? body : undefined;
    });
    expect(schemaProblems(document, documentedSchema(document, 'GET /jobs/{id}', 200), job)).toEqual([]);

    // text formats: the documented media types, with the documented download header
    for (const [format, mediaType] of [['srt', 'application/x-subrip'], ['vtt', 'text/vtt'], ['tsv', 'text/tab-separated-values'], ['text', 'text/plain']]) {
      const response = await fetch(`${base}/jobs/${queued.body.job_id}/result?format=${format}`, { headers: auth });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')?.split(';')[0]).toBe(mediaType);
      expect(documentedSchema(document, 'GET /jobs/{id}/result', 200, mediaType)).toMatchObject({ type: 'string' });
      expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename=/);
    }

    const health = await fetch(`${base}/health`, { headers: auth });
    expect(schemaProblems(document, documentedSchema(document, 'GET /health', 200), await health.json())).toEqual([]);
    const models = await fetch(`${base}/v1/models`, { headers: auth });
    expect(schemaProblems(document, documentedSchema(document, 'GET /v1/models', 200), await models.json())).toEqual([]);
    if (document.paths['/models']) {
      const catalog = await fetch(`${base}/models`, { headers: auth });
      expect(catalog.status).toBe(200);
      expect(schemaProblems(document, documentedSchema(document, 'GET /models', 200), await catalog.json())).toEqual([]);
    }

    // errors: status and body as documented, ours and OpenAI's
    const invalid = await postTranscribe(base, jfk, { batch_size: '0' }, 'jfk.wav', auth);
    expect(invalid.status).toBe(400);
    expect(schemaProblems(document, documentedSchema(document, 'POST /transcribe', 400), invalid.body)).toEqual([]);
    const unauthorized = await fetch(`${base}/jobs/${queued.body.job_id}`);
    expect(unauthorized.status).toBe(401);
    expect(schemaProblems(document, documentedSchema(document, 'GET /jobs/{id}', 401), await unauthorized.json())).toEqual([]);
    const missingModel = await fetch(`${base}/v1/models/whisper-2`, { headers: auth });
    expect(missingModel.status).toBe(404);
    expect(schemaProblems(document, documentedSchema(document, 'GET /v1/models/{id}', 404), await missingModel.json())).toEqual([]);

    // and the checker does catch a body that is not as documented
    expect(schemaProblems(document, documentedSchema(document, 'POST /transcribe', 400), { error: { message: 'no code' } })).not.toEqual([]);
    expect(schemaProblems(document, documentedSchema(document, 'GET /health', 200), { status: 'ok', extra: 1 })).not.toEqual([]);
  });

  it('Swagger UI at /docs, public, its assets served by the API itself (works offline)', async () => {
    const page = await fetch(`${base}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<div id="swagger-ui"></div>');
    const assets = [...html.matchAll(/(?:src|href)=["']([^"']+)["']/g)].map(([, url]) => url);
    expect(assets.filter((url) => /^(https?:)?\/\//.test(url))).toEqual([]);
    for (const asset of ['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-ui-init.js', 'swagger-ui.css']) {
      expect(assets).toContain(`./docs/${asset}`);
      const response = await fetch(`${base}/docs/${asset}`);
      expect(`${asset} ${response.status}`).toBe(`${asset} 200`);
      expect(response.headers.get('content-type')).toMatch(asset.endsWith('.css') ? /^text\/css/ : /javascript/);
      const text = await response.text();
      if (asset === 'swagger-ui-init.js') expect(text).toContain('"/v1/audio/transcriptions"');
      else expect(text.length).toBeGreaterThan(1000);
    }
  });
});
