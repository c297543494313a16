import { loadConfig } from '@app/config';

/**
 * Each running whisper.cpp call holds one libuv pool thread for its whole duration; the pool
 * (default 4) is also where fs and crypto work. Size it before anything uses it.
 */
function workerConcurrency(): number {
  try {
    return loadConfig().workerConcurrency;
  } catch {
    // a bad setting: main() reports it by name and exits before any job runs
    return 1;
  }
}

process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, workerConcurrency() + 4));
