import pino, { DestinationStream, Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogSettings } from '@app/config';
import { currentLogContext } from './log-context';

/**
 * Never in a log line, whatever a caller passes: credentials in headers (a request or its headers
 * logged by mistake) and obvious secret fields. Bodies, and so audio, are never logged at all.
 */
export const REDACTED_PATHS = [
  'authorization', 'headers.authorization', 'headers["x-api-key"]', 'headers.cookie', 'headers["proxy-authorization"]',
  'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', 'req.headers["proxy-authorization"]',
  'apiKey', 'api_key', 'token', 'password', 'secret', 'callback_secret',
];

/** Pretty lines on a terminal (or when asked), JSON lines otherwise (or when asked). */
export function usesPrettyOutput(format: LogSettings['logFormat'], isTty = Boolean(process.stdout.isTTY)): boolean {
  return format === 'pretty' || (format === 'auto' && isTty);
}

/**
 * The one pino logger of a process. Every line: level (a name), time (ISO), msg, the service, and
 * the request_id / job_id of the request or job it was made for (from the async context, so no
 * caller passes them). Writes are synchronous: the last lines before an exit are not lost.
 */
export function createRootLogger(service: 'api' | 'worker', settings: LogSettings, destination?: DestinationStream): Logger {
  const prettyOutput = !destination && usesPrettyOutput(settings.logFormat);
  const stream: DestinationStream = destination ?? (prettyOutput
    ? pretty({
      sync: true,
      colorize: Boolean(process.stdout.isTTY),
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service,context',
      messageFormat: '{if context}[{context}] {end}{msg}',
    })
    : pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level: settings.logLevel,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => ({ ...currentLogContext() }),
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    stream,
  );
}
