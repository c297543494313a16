import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig } from '@app/config';
import { ApiModule } from './api.module';

export async function bootstrapApi(): Promise<NestExpressApplication> {
  const config = loadConfig();
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, { bodyParser: true });
  app.enableShutdownHooks();
  // JSON/urlencoded bodies are small control data; audio only arrives as multipart
  app.useBodyParser('json', { limit: '1mb' });
  app.useBodyParser('urlencoded', { limit: '1mb', extended: false });
  await app.listen(config.port, process.env.HOST ?? '0.0.0.0');
  // keep idle connections longer than clients and load balancers do (60 s), so a reused socket is
  // never closed under a client that is starting a large upload on it
  const server = app.getHttpServer();
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  new Logger('API').log(`listening on :${config.port} (Redis ${config.redisUrl})`);
  return app;
}

if (require.main === module) {
  bootstrapApi().catch((error: Error) => {
    new Logger('API').error(`failed to start: ${error.message}`);
    process.exit(1);
  });
}
