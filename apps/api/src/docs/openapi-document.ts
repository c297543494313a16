import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { OperationObject, ParameterObject, PathItemObject, SecurityRequirementObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ErrorCode, isOpenAiPath } from '@app/contracts';
import type { AccessLevel } from '../auth/access.decorator';
import { ApiRoute, listApiRoutes, openApiPath } from './api-routes';
import { BODY_SCHEMAS } from './body-schemas';
import { errorResponses } from './error-responses';
import { ROUTE_DOCS, RouteDoc } from './route-docs';

/** Marks an operation whose route has no entry in ROUTE_DOCS (the e2e fails on it). */
export const UNDOCUMENTED = 'x-undocumented';

const SCHEMES = { apiKey: 'apiKey', apiKeyHeader: 'apiKeyHeader', adminToken: 'adminToken', metricsToken: 'metricsToken' } as const;

const API_KEY: SecurityRequirementObject[] = [{ [SCHEMES.apiKey]: [] }, { [SCHEMES.apiKeyHeader]: [] }];

/** Who may call a route, as the access guard reads @Access. */
const SECURITY: Readonly<Record<AccessLevel, SecurityRequirementObject[]>> = {
  // no key needed; /health shows more to one
  public: [{}, ...API_KEY],
  user: API_KEY,
  owner: [...API_KEY, { [SCHEMES.adminToken]: [] }],
  admin: [{ [SCHEMES.adminToken]: [] }],
};

/** The guard's refusals: only where a key is needed, and only when API_KEYS (or ADMIN_TOKEN) is set. */
const authErrors = (access: AccessLevel): ErrorCode[] => (access === 'public' ? [] : [ErrorCode.Unauthorized, ErrorCode.Forbidden]);

type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';

function pathParameters(route: ApiRoute, doc: RouteDoc): ParameterObject[] {
  return [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map(
    ([, name]) => doc.params?.[name] ?? { name, in: 'path', required: true, schema: { type: 'string' } },
  );
}

/** The route's operation from its ROUTE_DOCS entry; Nest's scan keeps only the operationId. */
function documentedOperation(route: ApiRoute, doc: RouteDoc, scanned: OperationObject | undefined): OperationObject {
  const parameters = [...pathParameters(route, doc), ...(doc.query?.() ?? [])];
  return {
    ...(scanned?.operationId ? { operationId: scanned.operationId } : {}),
    tags: [doc.tag],
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc.body ? { requestBody: doc.body() } : {}),
    responses: { ...doc.responses(), ...errorResponses([...authErrors(route.access), ...doc.errors], isOpenAiPath(route.path) ? 'openai' : 'service') },
    security: doc.security ?? SECURITY[route.access],
  };
}

export interface BuiltDocument {
  document: OpenAPIObject;
  /** "METHOD /path" of every route Nest has that ROUTE_DOCS does not describe */
  undocumented: string[];
}

/**
 * OpenAPI 3 for every route the app's controllers declare: Nest's scan (SwaggerModule) for the
 * paths, each operation then written from ROUTE_DOCS, its forms from the options table.
 */
export function buildOpenApiDocument(app: INestApplication): BuiltDocument {
  const config = new DocumentBuilder()
    .setTitle('Transcription service')
    .setDescription(
      'Self-hosted speech transcription: whisper.cpp with VAD, word alignment and speaker diarization. ' +
        'Our routes answer errors as {"error":{"code","message","field"}}; the OpenAI-compatible routes under /v1 in OpenAI\'s shape. ' +
        'With API_KEYS set, send a key as `Authorization: Bearer <key>` or `X-API-Key`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'an API key from API_KEYS' }, SCHEMES.apiKey)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'an API key from API_KEYS' }, SCHEMES.apiKeyHeader)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN: admin routes, and every job' }, SCHEMES.adminToken)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN: GET /metrics when it is set' }, SCHEMES.metricsToken)
    .addTag('transcription', 'Transcribe an upload')
    .addTag('jobs', 'Jobs: state, result, cancel')
    .addTag('models', 'Whisper models: what is known and loaded; load and unload (admin token)')
    .addTag('openai', 'OpenAI-compatible routes (official SDKs, Open WebUI)')
    .addTag('health', 'Readiness and liveness')
    .addTag('admin', 'Admin token only')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...BODY_SCHEMAS } };

  const undocumented: string[] = [];
  for (const route of listApiRoutes(app)) {
    const path = openApiPath(route.path);
    const method = route.method.toLowerCase() as HttpMethod;
    const item: PathItemObject = (document.paths[path] ??= {});
    const doc = Object.hasOwn(ROUTE_DOCS, route.key) ? ROUTE_DOCS[route.key] : undefined;
    if (!doc) {
      undocumented.push(route.key);
      const operation: OperationObject = { ...item[method], summary: 'UNDOCUMENTED: add this route to apps/api/src/docs/route-docs.ts', responses: item[method]?.responses ?? {} };
      item[method] = Object.assign(operation, { [UNDOCUMENTED]: true });
      continue;
    }
    item[method] = documentedOperation(route, doc, item[method]);
  }
  return { document, undocumented };
}
