import { ConfigError } from './env';

/** Readers of the logging variables: loadConfig calls them, and so does the logger set up before it. */

type Env = Record<string, string | undefined>;

/** pino's levels; Nest's `verbose` maps to trace. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** json: one JSON object per line; pretty: human-readable lines; auto: pretty on a terminal, JSON otherwise. */
export const LOG_FORMATS = ['json', 'pretty', 'auto'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogSettings {
  logLevel: LogLevel;
  logFormat: LogFormat;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `expected one of ${allowed.join('|')}, got "${env[name]}"`);
  return raw as T;
}

export const logLevelVar = (env: Env, name: string): LogLevel => oneOf(env, name, LOG_LEVELS, 'info');
export const logFormatVar = (env: Env, name: string): LogFormat => oneOf(env, name, LOG_FORMATS, 'auto');

/** LOG_LEVEL (info) and LOG_FORMAT (auto) alone: the logger is set up before the rest of the config is read. */
export function logSettings(env: Env): LogSettings {
  return { logLevel: logLevelVar(env, 'LOG_LEVEL'), logFormat: logFormatVar(env, 'LOG_FORMAT') };
}
