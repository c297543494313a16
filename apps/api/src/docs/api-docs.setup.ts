import { Logger } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { DOCS_PATH } from '../http/browser-access';
import { buildOpenApiDocument } from './openapi-document';

/** The OpenAPI document's URL. */
const OPENAPI_JSON_PATH = `${DOCS_PATH}/openapi.json`;

/**
 * Swagger UI at /docs and the document at /docs/openapi.json, public (plain Express routes: the
 * access guard is not on them). The UI's assets come from swagger-ui-dist, served from here: no
 * CDN, it works offline. Must run before listen(): Nest's 404 handler goes last.
 */
export function setupApiDocs(app: NestExpressApplication): void {
  const { document, undocumented } = buildOpenApiDocument(app);
  if (undocumented.length > 0) {
    new Logger('OpenAPI').error(`routes without documentation (add them to apps/api/src/docs/route-docs.ts): ${undocumented.join(', ')}`);
  }
  SwaggerModule.setup(DOCS_PATH.slice(1), app, document, {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    raw: ['json'],
    customSiteTitle: 'Transcription service API',
  });
}
