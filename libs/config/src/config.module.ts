import { Global, Module } from '@nestjs/common';
import { loadConfig, ServiceConfig } from './env';

/** Injection token for the validated ServiceConfig. */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');

/** Parses the environment once at boot; a bad variable stops the process with its name. */
@Global()
@Module({
  providers: [{ provide: SERVICE_CONFIG, useFactory: (): ServiceConfig => loadConfig() }],
  exports: [SERVICE_CONFIG],
})
export class ServiceConfigModule {}
