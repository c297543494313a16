import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line made on behalf of one request or one job carries. */
export interface LogContext {
  request_id?: string;
  job_id?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `context` on every line it logs, across its awaits (the logger's mixin reads it). */
export function runWithLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run({ ...context }, fn);
}

/** The fields of the request or job being handled here, if any. */
export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}

/** The request id of the request being handled here (it travels into job data to the worker). */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.request_id;
}

/** Adds fields to the current context for the rest of its lines (a request learns its job id midway). */
export function addToLogContext(fields: LogContext): void {
  const store = storage.getStore();
  if (store) Object.assign(store, fields);
}
