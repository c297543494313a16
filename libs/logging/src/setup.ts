import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';
import { ConfigError, LogSettings, logSettings } from '@app/config';
import { installNestLogger } from './nest-logger';
import { createRootLogger } from './root-logger';

export interface ProcessLogging {
  /** pino itself, for request logging */
  root: Logger;
  /** give to NestFactory (`logger:`) so Nest's own lines go through it too */
  nest: LoggerService;
}

/**
 * First thing a process does: JSON (or pretty) logs from its first line on. A bad LOG_LEVEL or
 * LOG_FORMAT still gets a logger (the defaults): loadConfig then stops the process with the
 * variable's name, written by that logger.
 */
export function setUpProcessLogging(service: 'api' | 'worker', env: Record<string, string | undefined> = process.env): ProcessLogging {
  let settings: LogSettings;
  try {
    settings = logSettings(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    settings = logSettings({});
  }
  const root = createRootLogger(service, settings);
  return { root, nest: installNestLogger(root) };
}
