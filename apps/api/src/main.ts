import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { checkBlobStore } from '@app/blob-store';
import { loadConfig } from '@app/config';
import { ProcessLogging, setUpProcessLogging } from '@app/logging';
import { assertRedisDatabase } from '@app/redis';
import { ApiModule } from './api.module';
import { requestLogging } from './logging/request-logging.middleware';
import { ApiMetrics, httpMetricsMiddleware } from './metrics';
import { setupApiDocs } from './docs/api-docs.setup';
import { corsOptions, helmetHeaders } from './http/browser-access';
import { multipartBodiesOnly, securityHeaders, uploadIdleTimeout } from './http/hardening.middleware';

/** Headers must arrive within this; a whole request (upload included) within REQUEST_LIMIT_MS. */
const HEADERS_TIMEOUT_MS = 30_000;
const REQUEST_LIMIT_MS = 3_600_000;
/** Idle keep-alive sockets outlive clients' and load balancers' (60 s), so a reused socket is never closed under a new upload. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Logging first: every line from here on (config errors included) is JSON or pretty, with request ids. */
export async function bootstrapApi(logging: ProcessLogging = setUpProcessLogging('api')): Promise<NestExpressApplication> {
  const config = loadConfig();
  // a database the server lacks would silently be database 0: another deployment's queue
  await assertRedisDatabase(config.redisUrl);
  // BLOB_STORE=s3: a missing bucket or refused credentials stop the API here, not at the first upload
  if ((await checkBlobStore(config)) === 'unreachable') {
    new Logger('API').warn(`S3_ENDPOINT did not answer at boot, so S3_BUCKET "${config.s3?.bucket}" and the credentials are not verified`);
  }
  // no body parsers: audio arrives as multipart (multer) and nothing else is accepted
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, { bodyParser: false, logger: logging.nest });
  app.enableShutdownHooks();
  app.disable('x-powered-by');
  // the request id before anything can answer, so every response and line carries it
  app.use(requestLogging(logging.root));
  // first, so refusals by the checks below are counted and timed too
  app.use(httpMetricsMiddleware(app.get(ApiMetrics)));
  app.use(helmetHeaders());
  // CORS before the body checks and the guard: a preflight carries no key, and a browser can read refusals too
  const cors = corsOptions(config.corsOrigins);
  if (cors) app.enableCors(cors);
  // the idle timeout first: it also bounds a refused body that is being drained
  app.use(securityHeaders, uploadIdleTimeout(config.uploadIdleTimeoutS * 1000), multipartBodiesOnly);
  // before listen(): Nest's 404 handler is registered last
  setupApiDocs(app);
  await app.listen(config.port, config.host);
  const server = app.getHttpServer();
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_LIMIT_MS;
  new Logger('API').log(`listening on ${config.host}:${config.port} (Redis ${config.redisUrl})`);
  return app;
}

if (require.main === module) {
  bootstrapApi().catch((error: Error) => {
    new Logger('API').error(`failed to start: ${error.message}`);
    process.exit(1);
  });
}
