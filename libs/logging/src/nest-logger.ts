import { Logger as NestLogger, LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';
import { Logger as PinoNestLogger, PinoLogger } from 'nestjs-pino';

/**
 * nestjs-pino's LoggerService over our root logger, made the logger of every `new Logger(context)`
 * and of Nest itself: existing calls keep working and come out as pino lines with `context`.
 * Built by hand rather than through LoggerModule so it works before the Nest module exists (config
 * errors, boot checks) and in the worker, which has no HTTP middleware.
 */
export function installNestLogger(root: Logger): LoggerService {
  const params = { pinoHttp: { logger: root } };
  const logger = new PinoNestLogger(new PinoLogger(params), params);
  NestLogger.overrideLogger(logger);
  return logger;
}
